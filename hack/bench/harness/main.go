// Command harness times whole process runs for hack/bench/bench.sh: each
// round runs every command once, in a new random order, so that drift in
// machine load spreads evenly over the commands; it prints the median and
// quartiles of each command's wall time.
//
//	harness -rounds N [-pair A,B]... SPEC
//	harness -journald-answers
//
// SPEC has one command per line: a name, then optional NAME=value
// settings added to the command's environment and +copy=SRC:DST steps
// (SRC copied over DST before each run, untimed: for a command that
// changes its input, such as a create the policy rewrites), then argv[0]
// (a path) and the arguments, separated by tabs. Commands run with stdin, stdout and stderr
// on /dev/null, after a warm-up run whose failure stops the harness with
// the command's stderr. Output, tab-separated: name, runs, median, first
// and third quartile, in milliseconds; then, for each -pair A,B, the same
// of A's time minus B's within each round.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

type command struct {
	name   string
	env    []string
	copies [][2]string
	argv   []string
	times  []time.Duration
	// rounds are the times in round order, for -pair.
	rounds []time.Duration
}

func main() {
	rounds := flag.Int("rounds", 100, "interleaved rounds")
	warmup := flag.Int("warmup", 3, "untimed runs of each command before the rounds")
	journald := flag.Bool("journald-answers", false, "only exit 0 when journald takes datagrams on its socket, 1 otherwise")
	var pairs pairList
	flag.Var(&pairs, "pair", "A,B: also print the median and quartiles of A's time minus B's within each round (repeatable)")
	flag.Parse()
	if *journald {
		os.Exit(journaldAnswers())
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: harness [-rounds N] [-warmup N] SPEC")
		os.Exit(2)
	}
	cmds, err := readSpec(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	for _, c := range cmds {
		for range *warmup {
			if err := checkRun(c); err != nil {
				fail(err)
			}
		}
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fail(err)
	}
	files := []uintptr{devnull.Fd(), devnull.Fd(), devnull.Fd()}
	for range *rounds {
		for _, i := range rand.Perm(len(cmds)) {
			d, err := timeRun(cmds[i], files)
			if err != nil {
				fail(err)
			}
			cmds[i].times = append(cmds[i].times, d)
		}
	}
	for _, c := range cmds {
		c.rounds = slices.Clone(c.times)
		slices.Sort(c.times)
		printQuantiles(c.name, c.times)
	}
	for _, p := range pairs {
		a, b := byName(cmds, p[0]), byName(cmds, p[1])
		if a == nil || b == nil {
			fail(fmt.Errorf("-pair %s,%s: no such command", p[0], p[1]))
		}
		printQuantiles(p[0]+"-"+p[1], roundDifferences(a.rounds, b.rounds))
	}
}

// pairList is the value of -pair flags: command names A and B.
type pairList [][2]string

func (p *pairList) String() string { return fmt.Sprint(*p) }

func (p *pairList) Set(v string) error {
	a, b, ok := strings.Cut(v, ",")
	if !ok || a == "" || b == "" {
		return fmt.Errorf("want A,B, got %q", v)
	}
	*p = append(*p, [2]string{a, b})
	return nil
}

func byName(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

// roundDifferences is a[i]-b[i] for each round i, sorted: the two ran in
// the same round, close in time, so drift in machine load between rounds
// cancels out of each difference.
func roundDifferences(a, b []time.Duration) []time.Duration {
	d := make([]time.Duration, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	slices.Sort(d)
	return d
}

// printQuantiles prints name, the count, the median and the quartiles of
// the sorted times, in milliseconds.
func printQuantiles(name string, sorted []time.Duration) {
	fmt.Printf("%s\t%d\t%.3f\t%.3f\t%.3f\n", name, len(sorted), ms(quantile(sorted, 0.5)), ms(quantile(sorted, 0.25)), ms(quantile(sorted, 0.75)))
}

func readSpec(path string) ([]*command, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cmds []*command
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		fields := strings.Split(sc.Text(), "\t")
		c := &command{name: fields[0], env: os.Environ()}
		args := fields[1:]
		for len(args) > 0 && !strings.HasPrefix(args[0], "/") && strings.Contains(args[0], "=") {
			if spec, ok := strings.CutPrefix(args[0], "+copy="); ok {
				src, dst, ok := strings.Cut(spec, ":")
				if !ok || src == "" || dst == "" {
					return nil, fmt.Errorf("spec line %q: want +copy=SRC:DST", sc.Text())
				}
				c.copies = append(c.copies, [2]string{src, dst})
			} else {
				c.env = append(c.env, args[0])
			}
			args = args[1:]
		}
		if len(args) == 0 || !strings.HasPrefix(args[0], "/") {
			return nil, fmt.Errorf("spec line %q: want name[<TAB>NAME=value|+copy=SRC:DST]…<TAB>/absolute/argv0[<TAB>arg]…", sc.Text())
		}
		c.argv = args
		cmds = append(cmds, c)
	}
	if len(cmds) == 0 {
		return nil, errors.New("spec has no command")
	}
	return cmds, sc.Err()
}

// prepare makes the copies c needs before a run.
func (c *command) prepare() error {
	for _, cp := range c.copies {
		data, err := os.ReadFile(cp[0])
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if err := os.WriteFile(cp[1], data, 0o644); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return nil
}

// checkRun runs c once and reports its stderr if it fails.
func checkRun(c *command) error {
	if err := c.prepare(); err != nil {
		return err
	}
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Env = c.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed (%v): %s\n  command: %s", c.name, err, strings.TrimSpace(stderr.String()), strings.Join(c.argv, " "))
	}
	return nil
}

// timeRun measures fork, exec and wait of one run; the harness's own part
// is the same for every command.
func timeRun(c *command, files []uintptr) (time.Duration, error) {
	if err := c.prepare(); err != nil {
		return 0, err
	}
	start := time.Now()
	pid, err := syscall.ForkExec(c.argv[0], c.argv, &syscall.ProcAttr{Env: c.env, Files: files})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", c.name, err)
	}
	var status syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &status, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: wait: %w", c.name, err)
	}
	if !status.Exited() || status.ExitStatus() != 0 {
		return 0, fmt.Errorf("%s: exit status %v during the rounds; command: %s", c.name, status, strings.Join(c.argv, " "))
	}
	return d, nil
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(q*float64(len(sorted)-1)+0.5)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "harness:", err)
	os.Exit(1)
}

// journaldAnswers connects to journald's native socket: a socket file left
// by a journald that is gone refuses the connection.
func journaldAnswers() int {
	conn, err := net.Dial("unixgram", "/run/systemd/journal/socket")
	if err != nil {
		return 1
	}
	conn.Close()
	return 0
}
