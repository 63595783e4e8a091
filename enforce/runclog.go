package enforce

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// reportError tells the engine why the call failed. containerd reads the
// last {"level":"error"} line of runc's --log file and shows its msg to
// the user (docker run prints it); Podman and plain users read stderr. So
// the message goes to both, in runc's format. The log file is shared by
// every call for the container, so it is appended to, never truncated; not
// being able to write it is said on stderr and changes nothing else.
func reportError(stderr io.Writer, logFile, logFormat, msg string) {
	fmt.Fprintln(stderr, msg)
	if logFile == "" {
		return
	}
	// O_NONBLOCK: a FIFO with no reader at the log path must not hang the call.
	f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "guard-runtime: cannot write the runtime log %s: %v\n", logFile, err)
		return
	}
	defer f.Close()
	if _, err := f.Write(runcLogLine(logFormat, msg, time.Now())); err != nil {
		fmt.Fprintf(stderr, "guard-runtime: cannot write the runtime log %s: %v\n", logFile, err)
	}
}

// runcLogLine formats one error line as runc's logrus would, in JSON or text.
// The JSON line is written by hand, in logrus's member order.
func runcLogLine(format, msg string, now time.Time) []byte {
	ts := now.Format(time.RFC3339Nano)
	if format == "json" {
		// AppendQuote replaces invalid UTF-8 and says so; the line is
		// still the message runc's reader needs.
		line, _ := jsontext.AppendQuote([]byte(`{"level":"error","msg":`), msg)
		line, _ = jsontext.AppendQuote(append(line, `,"time":`...), ts)
		return append(line, "}\n"...)
	}
	return fmt.Appendf(nil, "time=%q level=error msg=%q\n", ts, msg)
}
