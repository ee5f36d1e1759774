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
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	ticks, err := parseStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return ticksToDuration(ticks), nil
}

// parseStat returns utime+stime (fields 14 and 15, in clock ticks) of a /proc/<pid>/stat
// line. The command name (field 2) is in parentheses and may itself hold spaces and
// parentheses, so the fields are counted from the last ')'.
func parseStat(line string) (int64, error) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return 0, fmt.Errorf("no command name in %q", line)
	}
	fields := strings.Fields(line[end+1:]) // fields[0] is field 3, the state
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("%d fields after the command name, want at least %d", len(fields), stime+1)
	}
	var sum int64
	for _, i := range []int{utime, stime} {
		v, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("field %d: %q is not a tick count", i+3, fields[i])
		}
		sum += v
	}
	return sum, nil
}

func ticksToDuration(ticks int64) time.Duration {
	return time.Duration(ticks) * (time.Second / clockTicks)
}
