package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/atomicfile"
)

// A checkpoint file holds every variable of a model.Store — weights, optimizer moments, EMA
// copies, the random-number state — so a resumed run continues exactly where it stopped:
//
//	"IAGENCKPT1\n" | uint32 little-endian header length | JSON header | raw tensor bytes | SHA-256 of all before
//
// Files are written to a temporary name, synced and renamed, so a crash never leaves a
// half-written file under a checkpoint's name; the trailing hash catches truncation anyway.
const ckptMagic = "IAGENCKPT1\n"

type ckptHeader struct {
	Step      int                        `json:"step"`
	Variables []ckptVar                  `json:"variables"`
	Extra     map[string]json.RawMessage `json:"extra,omitempty"`
}

type ckptVar struct {
	Path      string `json:"path"`
	DType     string `json:"dtype"`
	Dims      []int  `json:"dims"`
	Trainable bool   `json:"trainable"`
	Offset    int64  `json:"offset"`
	Length    int64  `json:"length"`
}

// Checkpoint is one saved state: the step it was taken after, and its file.
type Checkpoint struct {
	Step int
	Path string
}

func ckptName(step int) string { return fmt.Sprintf("step-%08d.ckpt", step) }

// SaveCheckpoint writes every variable of store to dir/step-NNNNNNNN.ckpt atomically and
// keeps only the newest keep checkpoints (keep <= 0 keeps all). step is the number of
// completed training steps. extra holds small JSON-encodable values saved alongside.
func SaveCheckpoint(dir string, store *model.Store, step, keep int, extra map[string]any) (path string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	var body bytes.Buffer
	h := ckptHeader{Step: step, Extra: map[string]json.RawMessage{}}
	for k, v := range extra {
		raw, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("checkpoint: extra %q: %w", k, err)
		}
		h.Extra[k] = raw
	}
	var vars []*model.Variable
	for v := range store.IterVariables() {
		vars = append(vars, v)
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Path() < vars[j].Path() })
	for _, v := range vars {
		t, err := v.Value()
		if err != nil {
			return "", fmt.Errorf("checkpoint: variable %s: %w", v.Path(), err)
		}
		off := int64(body.Len())
		if err := t.ConstBytes(func(b []byte) { body.Write(b) }); err != nil {
			return "", fmt.Errorf("checkpoint: variable %s: %w", v.Path(), err)
		}
		sh := t.Shape()
		h.Variables = append(h.Variables, ckptVar{Path: v.Path(), DType: sh.DType.String(), Dims: sh.Dimensions,
			Trainable: v.Trainable, Offset: off, Length: int64(body.Len()) - off})
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	var file bytes.Buffer
	file.WriteString(ckptMagic)
	_ = binary.Write(&file, binary.LittleEndian, uint32(len(hdr)))
	file.Write(hdr)
	file.Write(body.Bytes())
	sum := sha256.Sum256(file.Bytes())
	file.Write(sum[:])

	path = filepath.Join(dir, ckptName(step))
	if err := WriteFileAtomic(path, file.Bytes()); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if keep > 0 {
		all, _ := ListCheckpoints(dir)
		for i := 0; i < len(all)-keep; i++ {
			_ = os.Remove(all[i].Path)
		}
	}
	return path, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same folder, synced and
// renamed: readers see the old content or the new one, never a mix (see atomicfile.Write).
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data) }

// ListCheckpoints returns the checkpoints in dir, oldest first. A missing dir gives none.
func ListCheckpoints(dir string) ([]Checkpoint, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []Checkpoint
	for _, e := range entries {
		var step int
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".ckpt") {
			continue
		}
		if _, err := fmt.Sscanf(e.Name(), "step-%d.ckpt", &step); err == nil {
			out = append(out, Checkpoint{Step: step, Path: filepath.Join(dir, e.Name())})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out, nil
}

// LoadLatestCheckpoint restores store from the newest intact checkpoint in dir and returns it
// (ok=false when dir holds none). A damaged newest file is skipped for the one before it, and
// the skip is reported in skipped.
func LoadLatestCheckpoint(dir string, store *model.Store) (c Checkpoint, extra map[string]json.RawMessage, skipped []string, ok bool, err error) {
	all, err := ListCheckpoints(dir)
	if err != nil {
		return c, nil, nil, false, fmt.Errorf("checkpoint: %w", err)
	}
	for i := len(all) - 1; i >= 0; i-- {
		extra, err := LoadCheckpoint(all[i].Path, store)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		return all[i], extra, skipped, true, nil
	}
	if len(skipped) > 0 {
		return c, nil, skipped, false, fmt.Errorf("no intact checkpoint in %s: %s", dir, strings.Join(skipped, "; "))
	}
	return c, nil, nil, false, nil
}

// LoadCheckpoint restores every variable saved in path into store, creating the ones the
// store does not have yet (graphs built later pick them up by path). It checks the file's hash
// before touching the store, so a corrupt file changes nothing.
func LoadCheckpoint(path string, store *model.Store) (extra map[string]json.RawMessage, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	bad := func(why string) error { return fmt.Errorf("checkpoint %s is damaged (%s)", path, why) }
	if len(raw) < len(ckptMagic)+4+sha256.Size || string(raw[:len(ckptMagic)]) != ckptMagic {
		return nil, bad("not an iagen checkpoint or truncated")
	}
	content, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if got := sha256.Sum256(content); !bytes.Equal(got[:], sum) {
		return nil, bad("checksum mismatch")
	}
	r := bytes.NewReader(content[len(ckptMagic):])
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || int(n) > r.Len() {
		return nil, bad("header length")
	}
	hdrBytes := make([]byte, n)
	_, _ = io.ReadFull(r, hdrBytes)
	var h ckptHeader
	if err := json.Unmarshal(hdrBytes, &h); err != nil {
		return nil, bad("header: " + err.Error())
	}
	body := content[len(ckptMagic)+4+int(n):]
	values := make([]*tensors.Tensor, len(h.Variables))
	for i, cv := range h.Variables {
		dt, ok := dtypes.MapOfNames[cv.DType]
		if !ok || cv.Offset < 0 || cv.Offset+cv.Length > int64(len(body)) {
			return nil, bad("variable " + cv.Path)
		}
		t := tensors.FromShape(shapes.Make(dt, cv.Dims...))
		if t.Shape().ByteSize() != cv.Length {
			return nil, bad("size of variable " + cv.Path)
		}
		if err := t.MutableBytes(func(b []byte) { copy(b, body[cv.Offset:cv.Offset+cv.Length]) }); err != nil {
			return nil, bad(err.Error())
		}
		values[i] = t
	}
	for i, cv := range h.Variables {
		if v := store.GetVariable(cv.Path); v != nil {
			if !v.Shape().Equal(values[i].Shape()) {
				return nil, fmt.Errorf("checkpoint %s: variable %s has shape %s, the model has %s (was it saved with another configuration?)",
					path, cv.Path, values[i].Shape(), v.Shape())
			}
			if err := v.SetValue(values[i]); err != nil {
				return nil, err
			}
			continue
		}
		v, err := store.CreateVariable(cv.Path, values[i])
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: variable %s: %w", path, cv.Path, err)
		}
		v.SetTrainable(cv.Trainable)
	}
	return h.Extra, nil
}

// Restore loads the newest intact checkpoint of the run folder dir into store and returns the
// step it was taken at. It fails when the run has no checkpoint.
func Restore(dir string, store *model.Store) (step int, err error) {
	c, _, _, ok, err := LoadLatestCheckpoint(filepath.Join(dir, "checkpoint"), store)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("no checkpoint in %s: train the model first", dir)
	}
	return c.Step, nil
}
