package enforce

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// pinRecord is what `guard-runtime pin` saw: the file's identity and birth
// time, its digest and when it was pinned. It is kept in the verification
// cache directory as pin-<hash of the path>, one line:
//
//	guard-runtime-pinned-v1 <dev> <ino> <size> <mtime> <ctime> <btime> <sha256> <unix ns> <path>
type pinRecord struct {
	ID       fileIdentity
	Btime    unix.Timespec // zero when the filesystem does not report it
	Digest   string
	PinnedAt time.Time
	Path     string
}

const pinRecordMagic = "guard-runtime-pinned-v1"

func pinRecordName(path string) string {
	return "pin-" + cacheNameHash(path, 16)
}

func (rec pinRecord) marshal() []byte {
	b := append([]byte(pinRecordMagic), ' ')
	b = rec.ID.appendKey(b)
	b = append(b, ' ')
	b = appendTimespec(b, rec.Btime)
	b = append(b, ' ')
	b = append(b, rec.Digest...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, rec.PinnedAt.UnixNano(), 10)
	b = append(b, ' ')
	b = append(b, rec.Path...)
	return append(b, '\n')
}

func parsePinRecord(data []byte) (pinRecord, error) {
	var rec pinRecord
	line, ok := strings.CutSuffix(string(data), "\n")
	fields := strings.SplitN(line, " ", 10)
	if !ok || len(fields) != 10 || fields[0] != pinRecordMagic {
		return rec, errors.New("not a pin record")
	}
	var err error
	if rec.ID, err = parseKey(fields[1:6]); err != nil {
		return rec, err
	}
	if rec.Btime, err = parseTimespec(fields[6]); err != nil {
		return rec, err
	}
	if rec.Digest, err = normalizeDigest(fields[7]); err != nil {
		return rec, err
	}
	ns, err := strconv.ParseInt(fields[8], 10, 64)
	if err != nil {
		return rec, err
	}
	rec.PinnedAt = time.Unix(0, ns)
	rec.Path = fields[9]
	return rec, nil
}

// readPinRecord returns the record for path; a missing, untrusted or
// malformed one is no record.
func (c *verifyCache) readPinRecord(path string) (pinRecord, bool) {
	data, err := c.readFile(pinRecordName(path))
	if err != nil || data == nil {
		return pinRecord{}, false
	}
	rec, err := parsePinRecord(data)
	if err != nil || rec.Path != path {
		return pinRecord{}, false
	}
	return rec, true
}

// compare says how the open file fd (identity cur, content digest) differs
// from the pinned one.
func (rec pinRecord) compare(fd int, cur fileIdentity, digest string) PinChange {
	if rec.ID.Dev != cur.Dev || rec.ID.Ino != cur.Ino {
		return PinChangeReplaced
	}
	// A freed inode number can be given to a new file: the birth time
	// tells them apart where the filesystem keeps one.
	if btime, ok := birthTime(fd); ok && rec.Btime != (unix.Timespec{}) && btime != rec.Btime {
		return PinChangeReplaced
	}
	if rec.ID != cur || rec.Digest != digest {
		return PinChangeModified
	}
	return PinChangeNone
}

func birthTime(fd int) (unix.Timespec, bool) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BTIME, &stx); err != nil || stx.Mask&unix.STATX_BTIME == 0 {
		return unix.Timespec{}, false
	}
	return unix.NsecToTimespec(stx.Btime.Sec*int64(time.Second) + int64(stx.Btime.Nsec)), true
}
