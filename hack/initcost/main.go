// Command initcost measures what importing a package costs every run of a
// static binary: its init functions, its package variables and its share of
// the binary's size. guard-runtime runs on every runtime call, so this price
// is paid on every `docker ps`.
//
// For each package it builds a static (CGO_ENABLED=0) binary whose main only
// imports the package, and one empty binary, runs them in interleaved rounds
// and prints the median wall time of a run, and the difference to the empty
// binary. With -inittrace it also prints the slowest package inits that the
// runtime reports (GODEBUG=inittrace=1).
//
//	go run ./hack/initcost [-rounds 500] [-inittrace] ./audit github.com/goccy/go-yaml
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 500, "interleaved runs of each binary")
	inittrace := flag.Bool("inittrace", false, "also print the slowest package inits of each binary")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./hack/initcost [-rounds N] [-inittrace] PACKAGE...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Args(), *rounds, *inittrace); err != nil {
		fmt.Fprintln(os.Stderr, "initcost:", err)
		os.Exit(1)
	}
}

type binary struct {
	name  string // "(empty)" or the import path
	path  string
	size  int64
	times []time.Duration
}

func run(packages []string, rounds int, inittrace bool) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	// Inside the module, so that the mains can import its packages; the
	// leading dot keeps ./... patterns from seeing it.
	work, err := os.MkdirTemp(root, ".initcost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	binaries := []*binary{{name: "(empty)"}}
	for _, pkg := range packages {
		binaries = append(binaries, &binary{name: pkg})
	}
	for i, b := range binaries {
		if err := build(root, work, i, b); err != nil {
			return err
		}
	}
	for range rounds {
		order := rand.Perm(len(binaries))
		for _, i := range order {
			d, err := timeRun(binaries[i].path)
			if err != nil {
				return fmt.Errorf("run %s: %w", binaries[i].name, err)
			}
			binaries[i].times = append(binaries[i].times, d)
		}
	}
	report(binaries, rounds)
	if inittrace {
		for _, b := range binaries[1:] {
			if err := printInitTrace(b); err != nil {
				return err
			}
		}
	}
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run from inside the guard-runtime module")
	}
	return filepath.Dir(gomod), nil
}

func build(root, work string, index int, b *binary) error {
	dir := filepath.Join(work, fmt.Sprintf("main%d", index))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	source := "package main\n\nfunc main() {}\n"
	if b.name != "(empty)" {
		importPath := b.name
		if strings.HasPrefix(importPath, "./") {
			importPath = "github.com/guard-runtime/guard-runtime/" + strings.TrimPrefix(importPath, "./")
		}
		source = fmt.Sprintf("package main\n\nimport _ %q\n\nfunc main() {}\n", importPath)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(source), 0o644); err != nil {
		return err
	}
	b.path = filepath.Join(work, fmt.Sprintf("bin%d", index))
	cmd := exec.Command("go", "build", "-trimpath", "-o", b.path, "./"+filepath.Base(work)+"/"+filepath.Base(dir))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", b.name, err, out)
	}
	info, err := os.Stat(b.path)
	if err != nil {
		return err
	}
	b.size = info.Size()
	return nil
}

func timeRun(path string) (time.Duration, error) {
	cmd := exec.Command(path)
	start := time.Now()
	err := cmd.Run()
	return time.Since(start), err
}

func median(times []time.Duration) time.Duration {
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

func report(binaries []*binary, rounds int) {
	empty := median(binaries[0].times)
	fmt.Printf("%d interleaved rounds, median wall time of fork+exec+run+wait, static binaries (CGO_ENABLED=0)\n", rounds)
	fmt.Printf("%-50s %10s %10s %12s\n", "binary", "size", "median", "over empty")
	for _, b := range binaries {
		m := median(b.times)
		fmt.Printf("%-50s %8.1fMB %8.3fms %+10.3fms\n", b.name, float64(b.size)/1e6, ms(m), ms(m-empty))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// printInitTrace runs b once with GODEBUG=inittrace=1 and prints the
// package inits that took longest, as the Go runtime measured them.
func printInitTrace(b *binary) error {
	cmd := exec.Command(b.path)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("inittrace %s: %w", b.name, err)
	}
	type initTime struct {
		pkg   string
		clock float64
	}
	var inits []initTime
	var total float64
	scanner := bufio.NewScanner(&stderr)
	for scanner.Scan() {
		// init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
		fields := strings.Fields(scanner.Text())
		if len(fields) < 6 || fields[0] != "init" {
			continue
		}
		clock, err := strconv.ParseFloat(fields[4], 64)
		if err != nil {
			continue
		}
		inits = append(inits, initTime{fields[1], clock})
		total += clock
	}
	sort.Slice(inits, func(i, j int) bool { return inits[i].clock > inits[j].clock })
	fmt.Printf("\n%s: %d package inits, %.3f ms in total; slowest:\n", b.name, len(inits), total)
	for _, it := range inits[:min(8, len(inits))] {
		fmt.Printf("  %-48s %.3f ms\n", it.pkg, it.clock)
	}
	return nil
}
