package spec

import (
	"bytes"
	"math"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// The readers below give a scalar's value only where json/v2 would read
// the same text into a Go value of that kind without an error, and would
// read exactly that value; otherwise they report false. They let generated
// decoders fill a typed value straight from a tree.

// IsNull reports whether s is the literal null.
func (s Scalar) IsNull() bool { return string(s) == "null" }

// Text returns the string s holds, its escapes resolved, or false when s
// is not a string.
func (s Scalar) Text() (string, bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", false
	}
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		// The tree holds only valid JSON: without escapes the text between
		// the quotes is the string itself.
		return string(inner), true
	}
	unquoted, err := jsontext.AppendUnquote(nil, s)
	if err != nil {
		return "", false
	}
	return string(unquoted), true
}

// Bool returns the boolean s holds, or false as ok when s is not true or
// false.
func (s Scalar) Bool() (value, ok bool) {
	switch string(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Int returns the integer s holds when it is a plain integer literal
// (no fraction, no exponent) that fits a signed integer of bits bits
// (0 meaning the size of int). "-0" is 0, as json/v2 reads it.
func (s Scalar) Int(bits int) (int64, bool) {
	bits = intBits(bits)
	negative := len(s) > 0 && s[0] == '-'
	digits := s
	if negative {
		digits = s[1:]
	}
	magnitude, ok := plainDigits(digits)
	if !ok {
		return 0, false
	}
	limit := uint64(1) << (bits - 1) // the magnitude of the smallest value
	if negative {
		if magnitude > limit {
			return 0, false
		}
		return int64(-magnitude), true
	}
	if magnitude > limit-1 {
		return 0, false
	}
	return int64(magnitude), true
}

// Uint returns the integer s holds when it is a plain non-negative
// integer literal that fits an unsigned integer of bits bits (0 meaning
// the size of uint). A minus sign, even on "-0", is refused, as json/v2
// refuses it.
func (s Scalar) Uint(bits int) (uint64, bool) {
	value, ok := plainDigits(s)
	if !ok || value > math.MaxUint64>>(64-intBits(bits)) {
		return 0, false
	}
	return value, true
}

// Float returns the number s holds, rounded to a float of bits bits as
// json/v2 rounds it, or false when s is not a number or is out of range.
func (s Scalar) Float(bits int) (float64, bool) {
	if len(s) == 0 || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, false
	}
	value, err := strconv.ParseFloat(string(s), bits)
	if err != nil {
		return 0, false
	}
	return value, true
}

// plainDigits parses a JSON integer's digits: no sign, no leading zero,
// at most the value of a uint64.
func plainDigits(digits []byte) (uint64, bool) {
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var value uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if value > (math.MaxUint64-d)/10 {
			return 0, false
		}
		value = value*10 + d
	}
	return value, true
}

func intBits(bits int) int {
	if bits == 0 {
		return strconv.IntSize
	}
	return bits
}
