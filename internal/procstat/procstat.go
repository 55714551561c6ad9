// Package procstat reads the numeric fields of a Linux process's /proc/<pid>/stat.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Stat is the fields of one read of /proc/<pid>/stat.
type Stat struct {
	pid  int
	rest []string // the fields after the command name, from field 3 (the state) on
}

// Read reads /proc/<pid>/stat.
func Read(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	// The command name, field 2, is in parentheses and may contain spaces and
	// parentheses: the fields are counted after its last closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	return Stat{pid: pid, rest: strings.Fields(string(b[i+1:]))}, nil
}

// Int returns field n, numbered as proc(5) numbers them (10 minflt, 14 utime, 15 stime);
// n is 3 or more.
func (s Stat) Int(n int) (int64, error) {
	if n < 3 || n-3 >= len(s.rest) {
		return 0, errors.New("/proc/" + strconv.Itoa(s.pid) + "/stat: no field " + strconv.Itoa(n))
	}
	v, err := strconv.ParseInt(s.rest[n-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat, field %d: %w", s.pid, n, err)
	}
	return v, nil
}
