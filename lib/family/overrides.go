package family

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Overrides collects fields of a configuration from `--set key=value` and `--config file.json`
// (it is a flag.Value) or from code: training configurations, and the sampling options of
// `iagen sample`. The names are the JSON names of the configuration's fields.
type Overrides struct{ fields map[string]json.RawMessage }

func (o *Overrides) String() string { return "" }

// Set takes key=value; a value that is not valid JSON is taken as a string (--set arch=conv).
func (o *Overrides) Set(kv string) error {
	key, value, ok := strings.Cut(kv, "=")
	if !ok || key == "" {
		return fmt.Errorf("want key=value, got %q", kv)
	}
	raw := json.RawMessage(value)
	if !json.Valid(raw) {
		raw, _ = json.Marshal(value)
	}
	o.put(key, raw)
	return nil
}

// ReadFile adds the fields of a JSON file that are not set yet (--set wins over --config
// whatever their order).
func (o *Overrides) ReadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return o.Underlay(b, path)
}

// Underlay adds the fields of the JSON object obj (from source, for errors) that are not set yet.
func (o *Overrides) Underlay(obj json.RawMessage, source string) error {
	if len(bytes.TrimSpace(obj)) == 0 || string(obj) == "null" {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(obj, &fields); err != nil {
		return fmt.Errorf("%s: want a JSON object of configuration fields: %w", source, err)
	}
	for k, v := range fields {
		if _, set := o.fields[k]; !set {
			o.put(k, v)
		}
	}
	return nil
}

func (o *Overrides) put(key string, v json.RawMessage) {
	if o.fields == nil {
		o.fields = map[string]json.RawMessage{}
	}
	o.fields[key] = v
}

// JSON returns the overrides as one object, or nil when there are none.
func (o *Overrides) JSON() json.RawMessage {
	if o == nil || len(o.fields) == 0 {
		return nil
	}
	b, _ := json.Marshal(o.fields) // raw messages of valid JSON always marshal
	return b
}

// Decode applies the JSON object overrides to *into (a configuration struct). A field that
// into does not have is an error naming it, so that a typo is not silently ignored.
func Decode(overrides json.RawMessage, into any, what string) error {
	if len(bytes.TrimSpace(overrides)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(overrides))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// DecodeChecked returns v with the JSON object overrides applied (Decode) and checked by check:
// how a sampler's options replace the current ones (`iagen sample --set`), the caller keeping
// its own v when the error is not nil.
func DecodeChecked[T any](overrides json.RawMessage, v T, what string, check func(T) error) (T, error) {
	if err := Decode(overrides, &v, what); err != nil {
		return v, err
	}
	return v, check(v)
}
