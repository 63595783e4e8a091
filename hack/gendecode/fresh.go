package gendecode

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freshProcessEnv tells a re-executed test binary which measurement to
// make.
const freshProcessEnv = "GUARD_RUNTIME_FRESH_PROCESS"

// FreshProcessRuns is how many fresh processes a measurement starts.
const FreshProcessRuns = 40

// MeasureFreshProcess reports the median time, over FreshProcessRuns new
// processes, of the first run of what the test named test measures with
// TimeInFreshProcess: the cost a runtime call pays, json/v2's reflection
// included, which a warm benchmark never sees. env is added to the
// child's environment.
func MeasureFreshProcess(b *testing.B, test string, env ...string) {
	b.Helper()
	var times []time.Duration
	for range FreshProcessRuns {
		cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
		cmd.Env = append(append(os.Environ(), freshProcessEnv+"="+test), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%s in a fresh process: %v\n%s", test, err, out)
		}
		_, value, found := strings.Cut(string(out), "fresh-process-ns=")
		value, _, _ = strings.Cut(value, "\n")
		ns, err := strconv.ParseInt(value, 10, 64)
		if !found || err != nil {
			b.Fatalf("%s printed no time:\n%s", test, out)
		}
		times = append(times, time.Duration(ns))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "median-ns/first-call")
	b.ReportMetric(float64(times[len(times)/10].Nanoseconds()), "p10-ns/first-call")
	b.ReportMetric(float64(times[len(times)*9/10].Nanoseconds()), "p90-ns/first-call")
}

// TimeInFreshProcess, called from test t, times measure and prints the
// time for MeasureFreshProcess when t runs in a process it started; else
// it skips t.
func TimeInFreshProcess(t *testing.T, measure func() error) {
	if os.Getenv(freshProcessEnv) != t.Name() {
		t.Skip("runs only in a fresh process started by its benchmark")
	}
	start := time.Now()
	err := measure()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("fresh-process-ns=%d\n", elapsed.Nanoseconds())
}
