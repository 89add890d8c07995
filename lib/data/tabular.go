package data

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Table is a small table of strings with named columns (the bias-audit data: German Credit,
// CPS 1985 wages).
type Table struct {
	Name    string
	Columns []string
	// Levels holds, for each column, the allowed values of a nominal (categorical) column, in
	// declaration order; nil for a numeric or free-text column.
	Levels [][]string
	Rows   [][]string // each row has len(Columns) values; "?" marks a missing ARFF value
	// Files maps each source file name to its SHA-256, for run manifests.
	Files map[string]string
}

// Index returns the position of the named column.
func (t *Table) Index(name string) (int, error) {
	if i := slices.Index(t.Columns, name); i >= 0 {
		return i, nil
	}
	return -1, fmt.Errorf("data: %s has no column %q (columns: %s)", t.Name, name, strings.Join(t.Columns, ", "))
}

// Column returns the values of the named column, one per row.
func (t *Table) Column(name string) ([]string, error) {
	i, err := t.Index(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(t.Rows))
	for r, row := range t.Rows {
		out[r] = row[i]
	}
	return out, nil
}

// Floats returns the named column parsed as numbers; a value that does not parse is an error
// naming its row.
func (t *Table) Floats(name string) ([]float64, error) {
	col, err := t.Column(name)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(col))
	for r, s := range col {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("data: %s row %d column %s: %q is not a number", t.Name, r, name, s)
		}
		out[r] = v
	}
	return out, nil
}

// LoadGermanCredit loads the Statlog German Credit data (1000 rows; 20 attributes and the class
// "good"/"bad", as in Weka's credit-g.arff) from dir/german-credit/, checksum first. One column
// is added at the end: "sex", "female" or "male", derived from personal_status, which is where
// the data codes sex (together with marital status).
func LoadGermanCredit(dir string) (*Table, error) {
	files, sums, err := readVerified(dir, "german-credit")
	if err != nil {
		return nil, err
	}
	t, err := parseARFF(files["credit-g.arff"])
	if err != nil {
		return nil, fmt.Errorf("data: german-credit: credit-g.arff: %w; %s", err, fixHint("german-credit", dir))
	}
	ps, err := t.Index("personal_status")
	if err != nil {
		return nil, err
	}
	t.Columns = append(t.Columns, "sex")
	t.Levels = append(t.Levels, []string{"female", "male"})
	for i, row := range t.Rows {
		sex, _, _ := strings.Cut(row[ps], " ")
		if sex != "female" && sex != "male" {
			return nil, fmt.Errorf("data: german-credit row %d: personal_status %q codes no sex", i, row[ps])
		}
		t.Rows[i] = append(row, sex)
	}
	t.Name, t.Files = "german-credit", sums
	return t, nil
}

// LoadCPSWages loads the May 1985 Current Population Survey extract (534 rows; columns
// education, south, gender, experience, union, wage, age, race, occupation, sector, married)
// from dir/cps-wages-1985/, checksum first. wage is in dollars per hour.
func LoadCPSWages(dir string) (*Table, error) {
	files, sums, err := readVerified(dir, "cps-wages-1985")
	if err != nil {
		return nil, err
	}
	t, err := parseCSV(files["data.csv"])
	if err != nil {
		return nil, fmt.Errorf("data: cps-wages-1985: data.csv: %w; %s", err, fixHint("cps-wages-1985", dir))
	}
	t.Name, t.Files = "cps-wages-1985", sums
	return t, nil
}

// LoadFirstNames loads the English first-name lists (4951 female, 3898 male names, in file
// order) from dir/first-names-en/, checksums first.
func LoadFirstNames(dir string) (female, male []string, err error) {
	files, _, err := readVerified(dir, "first-names-en")
	if err != nil {
		return nil, nil, err
	}
	return lines(files["female.txt"]), lines(files["male.txt"]), nil
}

func lines(b []byte) []string {
	var out []string
	for l := range strings.SplitSeq(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// LoadAFINNSpanish loads the machine-translated Spanish AFINN lexicon (2861 words and phrases →
// valence -5..+5) from dir/afinn-es/, checksum first.
func LoadAFINNSpanish(dir string) (map[string]int, error) {
	files, _, err := readVerified(dir, "afinn-es")
	if err != nil {
		return nil, err
	}
	var lex map[string]int
	if err := json.Unmarshal(files["AFINN-es.json"], &lex); err != nil {
		return nil, fmt.Errorf("data: afinn-es: AFINN-es.json: %w; %s", err, fixHint("afinn-es", dir))
	}
	return lex, nil
}

// parseCSV reads a CSV file whose first line names the columns; every row must have as many
// fields.
func parseCSV(b []byte) (*Table, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("not valid UTF-8")
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("empty CSV file")
	}
	if err != nil {
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	t := &Table{Columns: header, Levels: make([][]string, len(header))}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("CSV: %w", err)
		}
		t.Rows = append(t.Rows, rec)
	}
	return t, nil
}

// parseARFF reads a Weka ARFF file: '%' comments, @relation, @attribute NAME TYPE lines (TYPE
// numeric/real/integer/string, or a nominal set {a, 'b c', …}), then @data rows of
// comma-separated values (single- or double-quoted when they hold spaces or commas; '?' =
// missing). Nominal values are checked against their set and numeric values must parse. The
// sparse {index value} row form is not supported.
func parseARFF(b []byte) (*Table, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("not valid UTF-8")
	}
	t := &Table{}
	numeric := []bool{}
	inData := false
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '%' {
			continue
		}
		lineNo := n + 1
		if !inData {
			if line[0] != '@' {
				return nil, fmt.Errorf("line %d: expected an @ declaration, got %.40q", lineNo, line)
			}
			kw, rest, _ := strings.Cut(line, " ")
			kw = strings.ToLower(strings.TrimSpace(kw))
			rest = strings.TrimSpace(rest)
			switch kw {
			case "@relation":
				name, _, err := arffToken(rest)
				if err != nil {
					return nil, fmt.Errorf("line %d: @relation: %w", lineNo, err)
				}
				t.Name = name
			case "@attribute":
				name, typ, err := arffToken(rest)
				if err != nil || name == "" {
					return nil, fmt.Errorf("line %d: @attribute: bad name (%v)", lineNo, err)
				}
				typ = strings.TrimSpace(typ)
				var levels []string
				isNum := false
				switch {
				case strings.HasPrefix(typ, "{"):
					if !strings.HasSuffix(typ, "}") {
						return nil, fmt.Errorf("line %d: attribute %s: unclosed nominal set", lineNo, name)
					}
					levels, err = arffSplit(typ[1 : len(typ)-1])
					if err != nil || len(levels) == 0 {
						return nil, fmt.Errorf("line %d: attribute %s: bad nominal set (%v)", lineNo, name, err)
					}
				case slices.Contains([]string{"numeric", "real", "integer"}, strings.ToLower(typ)):
					isNum = true
				case strings.ToLower(typ) == "string":
				default:
					return nil, fmt.Errorf("line %d: attribute %s: unsupported type %.30q", lineNo, name, typ)
				}
				if slices.Contains(t.Columns, name) {
					return nil, fmt.Errorf("line %d: attribute %s declared twice", lineNo, name)
				}
				t.Columns = append(t.Columns, name)
				t.Levels = append(t.Levels, levels)
				numeric = append(numeric, isNum)
			case "@data":
				if len(t.Columns) == 0 {
					return nil, fmt.Errorf("line %d: @data before any @attribute", lineNo)
				}
				inData = true
			default:
				return nil, fmt.Errorf("line %d: unknown declaration %.20q", lineNo, kw)
			}
			continue
		}
		if line[0] == '{' {
			return nil, fmt.Errorf("line %d: sparse ARFF rows are not supported", lineNo)
		}
		vals, err := arffSplit(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if len(vals) != len(t.Columns) {
			return nil, fmt.Errorf("line %d: %d values, want %d", lineNo, len(vals), len(t.Columns))
		}
		for i, v := range vals {
			if v == "?" {
				continue
			}
			if numeric[i] {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					return nil, fmt.Errorf("line %d: %s = %.20q is not a number", lineNo, t.Columns[i], v)
				}
			} else if t.Levels[i] != nil && !slices.Contains(t.Levels[i], v) {
				return nil, fmt.Errorf("line %d: %s = %.30q is not one of its declared values", lineNo, t.Columns[i], v)
			}
		}
		t.Rows = append(t.Rows, vals)
	}
	if !inData {
		return nil, fmt.Errorf("no @data section")
	}
	return t, nil
}

// arffToken reads one possibly quoted token from the start of s and returns it and the rest.
func arffToken(s string) (tok, rest string, err error) {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return "", "", nil
	}
	if q := s[0]; q == '\'' || q == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case c == q:
				return b.String(), s[i+1:], nil
			default:
				b.WriteByte(c)
			}
		}
		return "", "", fmt.Errorf("unterminated quote in %.30q", s)
	}
	end := strings.IndexAny(s, " \t")
	if end < 0 {
		return s, "", nil
	}
	return s[:end], s[end:], nil
}

// arffSplit splits a comma-separated ARFF list, honouring quotes, trimming unquoted values.
func arffSplit(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		var v string
		if s != "" && (s[0] == '\'' || s[0] == '"') {
			tok, rest, err := arffToken(s)
			if err != nil {
				return nil, err
			}
			v, s = tok, strings.TrimLeft(rest, " \t")
			if s != "" && s[0] != ',' {
				return nil, fmt.Errorf("text after a quoted value: %.20q", s)
			}
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			v, s = strings.TrimSpace(s[:end]), s[end:]
		}
		out = append(out, v)
		if s == "" {
			return out, nil
		}
		s = s[1:] // the comma
	}
}
