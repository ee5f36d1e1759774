package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: sysconf(_SC_CLK_TCK),
// which Linux fixes at 100 for user space on every architecture Go supports.
const clockTicks = 100

// cpuTime is the CPU a process has used so far, user and system, from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	st, err := readProcStat(pid)
	return ticksToDuration(st.cpu), err
}

// procStat is what the bench reads of /proc/<pid>/stat, in clock ticks.
type procStat struct {
	ppid   int
	cpu    int64 // utime+stime
	reaped int64 // cutime+cstime: the children waited for
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	st, err := parseProcStat(string(b))
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return st, nil
}

// parseProcStat reads a /proc/<pid>/stat line's parent (field 4), utime+stime (14 and 15)
// and cutime+cstime (16 and 17, the children it waited for). The command name (field 2) is
// in parentheses and may itself hold spaces and parentheses, so the fields are counted from
// the last ')'.
func parseProcStat(line string) (procStat, error) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("no command name in %q", line)
	}
	fields := strings.Fields(line[end+1:]) // fields[0] is field 3, the state
	const ppid, utime, stime, cutime, cstime = 4 - 3, 14 - 3, 15 - 3, 16 - 3, 17 - 3
	if len(fields) <= cstime {
		return procStat{}, fmt.Errorf("%d fields after the command name, want at least %d", len(fields), cstime+1)
	}
	field := func(i int) (int64, error) {
		v, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("field %d: %q is not a count", i+3, fields[i])
		}
		return v, nil
	}
	var v [5]int64
	for j, i := range []int{ppid, utime, stime, cutime, cstime} {
		var err error
		if v[j], err = field(i); err != nil {
			return procStat{}, err
		}
	}
	return procStat{ppid: int(v[0]), cpu: v[1] + v[2], reaped: v[3] + v[4]}, nil
}

func ticksToDuration(ticks int64) time.Duration {
	return time.Duration(ticks) * (time.Second / clockTicks)
}
