package faulttest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// socketOwner returns which of pids has the TCP socket from 127.0.0.1:localPort to
// 127.0.0.1:remotePort open, or -1: the receiver's way to tell which roomd process sent a
// callback. It reads /proc/net/tcp for the socket's inode and the processes' file
// descriptors for a link to it.
func socketOwner(localPort, remotePort int, pids []int) int {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return -1
	}
	local := fmt.Sprintf("0100007F:%04X", localPort)
	remote := fmt.Sprintf("0100007F:%04X", remotePort)
	inode := ""
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && f[1] == local && f[2] == remote {
			inode = f[9]
			break
		}
	}
	if inode == "" || inode == "0" {
		return -1
	}
	want := "socket:[" + inode + "]"
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd"
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && l == want {
				return pid
			}
		}
	}
	return -1
}
