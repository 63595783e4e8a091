package spec

import (
	"fmt"
	"testing"
)

// The scalar readers take exactly the literals json/v2 takes.
func TestScalarReaders(t *testing.T) {
	for _, c := range []struct {
		text string
		want string // fmt of value, or "-" for refused
		read func(Scalar) (any, bool)
	}{
		{`"a\u00e9\n"`, "aé\n", text}, {`1`, "-", text}, {`null`, "-", text},
		{`true`, "true", boolean}, {`false`, "false", boolean}, {`"true"`, "-", boolean}, {`1`, "-", boolean},
		{`-0`, "0", int8Of}, {`-128`, "-128", int8Of}, {`127`, "127", int8Of}, {`128`, "-", int8Of}, {`-129`, "-", int8Of},
		{`1.0`, "-", int8Of}, {`1e2`, "-", int8Of}, {`01`, "-", int8Of}, {`"1"`, "-", int8Of}, {`-`, "-", int8Of},
		{`9223372036854775807`, "9223372036854775807", int64Of}, {`-9223372036854775808`, "-9223372036854775808", int64Of},
		{`9223372036854775808`, "-", int64Of}, {`-9223372036854775809`, "-", int64Of},
		{`0`, "0", uint16Of}, {`65535`, "65535", uint16Of}, {`65536`, "-", uint16Of}, {`-0`, "-", uint16Of}, {`-1`, "-", uint16Of},
		{`18446744073709551615`, "18446744073709551615", uint64Of}, {`18446744073709551616`, "-", uint64Of}, {`99999999999999999999`, "-", uint64Of},
		{`1.5`, "1.5", float64Of}, {`-0`, "-0", float64Of}, {`1e2`, "100", float64Of}, {`1e400`, "-", float64Of}, {`"1"`, "-", float64Of},
	} {
		got, ok := c.read(Scalar(c.text))
		shown := "-"
		if ok {
			shown = fmt.Sprint(got)
		}
		if shown != c.want {
			t.Errorf("%s read %T-wise: got %s, want %s", c.text, got, shown, c.want)
		}
	}
}

func text(s Scalar) (any, bool)      { return s.Text() }
func boolean(s Scalar) (any, bool)   { return s.Bool() }
func int8Of(s Scalar) (any, bool)    { return s.Int(8) }
func int64Of(s Scalar) (any, bool)   { return s.Int(64) }
func uint16Of(s Scalar) (any, bool)  { return s.Uint(16) }
func uint64Of(s Scalar) (any, bool)  { return s.Uint(64) }
func float64Of(s Scalar) (any, bool) { return s.Float(64) }
