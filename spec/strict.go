package spec

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Document is one OCI document read strictly: the typed value the policy
// reads, and the document's Source, whose lossless tree guard-runtime
// edits, built only when something needs it.
type Document[T any] struct {
	*Source
	Value *T
}

// The three documents a runtime is handed.
type (
	// Config is a bundle's config.json (create, run, restore).
	Config = Document[specs.Spec]
	// Process is the --process file of exec.
	Process = Document[specs.Process]
	// Resources is the resources JSON of update.
	Resources = Document[specs.LinuxResources]
)

// Decode reads data once, strictly, as a document of type T.
//
// runc decodes with encoding/json, which takes the last of duplicate keys,
// matches keys case-insensitively and with Unicode folding ("Process" and
// "proceſſ" both fill process), and ignores whatever follows the first
// value. guard-runtime must judge exactly what runc will run, so each of
// these is an error here, as are numbers out of range for their field.
//
// A document of a type with a generated decoder (decode_gen.go) is read
// straight from its tokens, and its tree is built only if it is edited;
// anything that decoder does not plainly handle takes the reflective path
// below, which gives the errors.
func Decode[T any](data []byte) (*Document[T], error) {
	if value, ok := fastDecode[T](data); ok {
		return &Document[T]{Source: &Source{data: data}, Value: value}, nil
	}
	value, tree, err := decodeReflective[T](data)
	if err != nil {
		return nil, err
	}
	return &Document[T]{Source: &Source{data: data, tree: tree}, Value: value}, nil
}

// decodeReflective reads data as Decode does where no generated decoder
// can: the tree first (duplicate keys, trailing data, limits), then the
// key cases, then json/v2, whose errors it describes.
func decodeReflective[T any](data []byte) (*T, *Tree, error) {
	tree, err := ParseTree(data)
	if err != nil {
		return nil, nil, err
	}
	if err := checkKeyCase(tree.Root, reflect.TypeFor[T](), ""); err != nil {
		return nil, nil, err
	}
	value := new(T)
	if err := reflectUnmarshal(data, value); err != nil {
		return nil, nil, describeTypeError(err)
	}
	return value, tree, nil
}

//go:generate go test -run ^TestGeneratedDecodersAreCurrent$ . -regenerate

// fastDecoders holds, for a document type T, its generated decoder, a
// func(*Stream, *T) bool that fills the zero value v from a document's
// tokens and reports whether it could (see hack/gendecode). decode_gen.go
// registers them; without it every document takes the reflective path.
// A slice of a static array, not a map, which the package's
// initialisation would allocate in every runtime call (a fourth decoder
// would make append allocate, which a test of the lean build's start-up
// refuses).
var (
	fastDecoderArray [3]fastDecoder
	fastDecoders     = fastDecoderArray[:0]
)

type fastDecoder struct {
	typ    reflect.Type
	decode any
}

func registerFastDecoder[T any](decode func(*Stream, *T) bool) {
	fastDecoders = append(fastDecoders, fastDecoder{reflect.TypeFor[T](), decode})
}

func fastDecoderOf[T any]() (func(*Stream, *T) bool, bool) {
	typ := reflect.TypeFor[T]()
	for _, d := range fastDecoders {
		if d.typ == typ {
			decode, ok := d.decode.(func(*Stream, *T) bool)
			return decode, ok
		}
	}
	return nil, false
}

// fastDecode reads data with T's generated decoder, if there is one and
// it can: then data passes ParseTree's checks, the value is the one
// json.Unmarshal would give, and no key can be a case variant of a
// field's name (such a key is unknown to the decoder).
func fastDecode[T any](data []byte) (*T, bool) {
	decode, ok := fastDecoderOf[T]()
	if !ok {
		return nil, false
	}
	return DecodeWith(data, decode)
}

// DecodeConfig reads a bundle's config.json.
func DecodeConfig(data []byte) (*Config, error) { return Decode[specs.Spec](data) }

// DecodeProcess reads an exec process file.
func DecodeProcess(data []byte) (*Process, error) { return Decode[specs.Process](data) }

// DecodeResources reads the resources of an update.
func DecodeResources(data []byte) (*Resources, error) { return Decode[specs.LinuxResources](data) }

// Reparse decodes the document again from its (edited) tree. The new
// document's bytes are that encoding, so encoding it again returns them
// without building its tree: a rewritten config.json is read back, judged
// again, then written.
func (d *Document[T]) Reparse() (*Document[T], error) {
	data, err := d.Encode()
	if err != nil {
		return nil, err
	}
	doc, err := Decode[T](data)
	if err != nil {
		return nil, err
	}
	doc.Source.encoded = true
	return doc, nil
}

func pointerOrRoot(p string) string {
	if p == "" {
		return "(the document)"
	}
	return p
}

// checkKeyCase walks node alongside the Go type it decodes into and rejects
// any object key that is not a field's exact name but equals one under
// Unicode case folding: encoding/json would fill that field, json/v2 and
// this policy would not. The error's location is built only on the way
// back up, so a clean document costs no path strings.
func checkKeyCase(node any, t reflect.Type, at string) error {
	if err := walkKeyCase(node, t); err != nil {
		return err.withLocation(at)
	}
	return nil
}

// keyCaseError is a case-variant key, with the path to it collected
// innermost first while the walk unwinds.
type keyCaseError struct {
	key, field string
	path       []string
}

func (e *keyCaseError) withLocation(prefix string) error {
	tokens := make([]string, 0, len(e.path))
	for i := len(e.path) - 1; i >= 0; i-- {
		tokens = append(tokens, e.path[i])
	}
	at := prefix + Pointer(tokens...)
	return fmt.Errorf("key %q at %s differs from the spec field %q only in letter case: runc would read it as %q, so the document is ambiguous; spell it %q", e.key, pointerOrRoot(at), e.field, e.field, e.field)
}

func walkKeyCase(node any, t reflect.Type) *keyCaseError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n := node.(type) {
	case *Object:
		switch t.Kind() {
		case reflect.Struct:
			return walkStructKeys(n, t)
		case reflect.Map:
			for _, m := range n.Members {
				if err := walkKeyCase(m.Value, t.Elem()); err != nil {
					err.path = append(err.path, m.Name)
					return err
				}
			}
		}
	case *Array:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, item := range n.Items {
				if err := walkKeyCase(item, t.Elem()); err != nil {
					err.path = append(err.path, strconv.Itoa(i))
					return err
				}
			}
		}
	}
	return nil
}

func walkStructKeys(obj *Object, t reflect.Type) *keyCaseError {
	fields := jsonFields(t)
	for _, m := range obj.Members {
		if ft, ok := fields[m.Name]; ok {
			if err := walkKeyCase(m.Value, ft); err != nil {
				err.path = append(err.path, m.Name)
				return err
			}
			continue
		}
		for name := range fields {
			if strings.EqualFold(name, m.Name) {
				return &keyCaseError{key: m.Name, field: name}
			}
		}
	}
	return nil
}

// fieldCache holds jsonFields per struct type: a seccomp profile repeats
// one syscall type hundreds of times.
var fieldCache sync.Map

// jsonFields maps the JSON names of t's fields, as encoding/json names them,
// to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.(map[string]reflect.Type)
	}
	fields := computeJSONFields(t)
	fieldCache.Store(t, fields)
	return fields
}

func computeJSONFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			inner := f.Type
			if inner.Kind() == reflect.Pointer {
				inner = inner.Elem()
			}
			if inner.Kind() == reflect.Struct {
				for n, ft := range jsonFields(inner) {
					fields[n] = ft
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}
