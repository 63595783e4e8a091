//go:build !lean

package enforce

import (
	"crypto/sha256"
	"encoding/hex"

	"golang.org/x/sys/unix"
)

// hashFile is the sha256 of the open runtime file, and whether it is ELF.
func hashFile(fd int) (digest string, isELF bool, err error) {
	h := sha256.New()
	buf := make([]byte, hashBufferSize)
	var off int64
	for {
		n, err := unix.Pread(fd, buf, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", false, err
		}
		if n == 0 {
			break
		}
		if off == 0 {
			isELF = n >= 4 && string(buf[:4]) == "\x7fELF"
		}
		h.Write(buf[:n])
		off += int64(n)
	}
	return hex.EncodeToString(h.Sum(nil)), isELF, nil
}
