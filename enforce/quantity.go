package enforce

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bytes is a size in a policy: a plain number of bytes, or one with a
// binary suffix (Ki, Mi, Gi, Ti), as Kubernetes writes memory.
type Bytes int64

var byteSuffixes = []struct {
	suffix string
	factor int64
}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}}

func parseBytes(s string) (int64, error) {
	factor := int64(1)
	num := s
	for _, suf := range byteSuffixes {
		if strings.HasSuffix(s, suf.suffix) {
			factor, num = suf.factor, strings.TrimSuffix(s, suf.suffix)
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/factor {
		return 0, fmt.Errorf("size %q is not valid: use bytes or a number with Ki, Mi, Gi or Ti", s)
	}
	return n * factor, nil
}

// String writes b the way a policy would.
func (b Bytes) String() string {
	for i := len(byteSuffixes) - 1; i >= 0; i-- {
		if f := byteSuffixes[i].factor; b >= Bytes(f) && int64(b)%f == 0 {
			return strconv.FormatInt(int64(b)/f, 10) + byteSuffixes[i].suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalYAML writes b as policy files write it.
func (b Bytes) MarshalYAML() (any, error) { return b.String(), nil }

// RlimitValue is a resource limit in a policy (rlimits): a number, or
// unlimited, the kernel's RLIM_INFINITY.
type RlimitValue uint64

// rlimInfinity is RLIM_INFINITY, the kernel's "no limit".
const rlimInfinity = math.MaxUint64

// String writes v as a policy would.
func (v RlimitValue) String() string { return formatRlimit(uint64(v)) }

// MarshalYAML writes v as policy files write it.
func (v RlimitValue) MarshalYAML() (any, error) {
	if v == rlimInfinity {
		return "unlimited", nil
	}
	return uint64(v), nil
}

func formatRlimit(v uint64) string {
	if v == rlimInfinity {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

func parseRlimit(s string) (RlimitValue, error) {
	if s == "unlimited" {
		return rlimInfinity, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("limit %q is not valid: use a number (0 up to 18446744073709551615) or unlimited", s)
	}
	return RlimitValue(v), nil
}
