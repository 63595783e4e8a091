package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// object is a JSON object that keeps its keys in file order and its values
// as they were written, so that rewriting daemon.json changes only the keys
// this program owns.
type object struct {
	members []member
}

type member struct {
	key   string
	value json.RawMessage
}

// parseObject parses data as exactly one JSON object. Duplicate keys, at
// any depth, are an error: Go's decoder (and so dockerd) silently keeps the
// last one, and an admin would not see which one is in force.
func parseObject(data []byte) (*object, error) {
	if err := checkDuplicateKeys(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	start, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if start != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (starts with %v)", start)
	}
	doc := &object{}
	for dec.More() {
		keyToken, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %w", err)
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("value of %q: %w", keyToken, err)
		}
		doc.members = append(doc.members, member{key: keyToken.(string), value: compact(value)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return doc, nil
}

func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return checkValue(dec, "")
}

func checkValue(dec *json.Decoder, where string) error {
	token, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	switch token {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			keyToken, err := dec.Token()
			if err != nil {
				return fmt.Errorf("not JSON: %w", err)
			}
			key := keyToken.(string)
			if seen[key] {
				return fmt.Errorf("key %q appears twice in %s", key, describe(where))
			}
			seen[key] = true
			if err := checkValue(dec, where+"/"+key); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := checkValue(dec, fmt.Sprintf("%s/%d", where, i)); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return nil
}

func describe(where string) string {
	if where == "" {
		return "the top-level object"
	}
	return where
}

func compact(value json.RawMessage) json.RawMessage {
	var out bytes.Buffer
	if err := json.Compact(&out, value); err != nil {
		return value
	}
	return out.Bytes()
}

func (o *object) get(key string) (json.RawMessage, bool) {
	for _, m := range o.members {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

// set replaces key's value in place, or appends the key.
func (o *object) set(key string, value json.RawMessage) {
	for i, m := range o.members {
		if m.key == key {
			o.members[i].value = value
			return
		}
	}
	o.members = append(o.members, member{key: key, value: value})
}

func (o *object) remove(key string) {
	kept := o.members[:0]
	for _, m := range o.members {
		if m.key != key {
			kept = append(kept, m)
		}
	}
	o.members = kept
}

// object returns key's value as an object: empty when absent, an error
// when it is something else.
func (o *object) object(key string) (*object, error) {
	value, ok := o.get(key)
	if !ok {
		return &object{}, nil
	}
	inner, err := parseObject(value)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", key, err)
	}
	return inner, nil
}

func (o *object) clone() *object {
	return &object{members: append([]member(nil), o.members...)}
}

// encode writes the object compactly; values are kept as written.
func (o *object) encode() json.RawMessage {
	var out bytes.Buffer
	out.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(marshalNoHTMLEscape(m.key))
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
	return out.Bytes()
}

// marshalNoHTMLEscape encodes v as JSON without turning <, > and & into
// \u escapes, so that keys and paths are written as the admin wrote them.
func marshalNoHTMLEscape(v any) json.RawMessage {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only called with strings and string slices
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}
