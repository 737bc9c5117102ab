// SPDX-License-Identifier: GPL-2.0
//
// go-criu against our criu swrk: the library runc and podman use. Asks the
// version (runc wants at least 3.11), dumps the zdtm test env00 with
// notifications, restores it as our child (rst_sibling, as runc does),
// checks its verdict, and checks that an option we don't implement is
// refused by name.
//
// Usage: go-criu-test CRIU ENV00 TMPDIR. Prints TAP lines; exit 1 on a failure.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	criu "github.com/checkpoint-restore/go-criu/v5"
	"github.com/checkpoint-restore/go-criu/v5/rpc"
	"google.golang.org/protobuf/proto"
)

var nr, failed int

func check(ok bool, format string, args ...interface{}) bool {
	nr++
	prefix := "ok"
	if !ok {
		prefix = "not ok"
		failed++
	}
	fmt.Printf("%s %d - %s\n", prefix, nr, fmt.Sprintf(format, args...))
	return ok
}

// notes records every notification; a post-restore brings the root's pid.
type notes struct {
	criu.NoNotify
	seen []string
	pid  int32
}

func (n *notes) PreDump() error   { n.seen = append(n.seen, "pre-dump"); return nil }
func (n *notes) PostDump() error  { n.seen = append(n.seen, "post-dump"); return nil }
func (n *notes) PreRestore() error { n.seen = append(n.seen, "pre-restore"); return nil }
func (n *notes) PostRestore(pid int32) error {
	n.seen = append(n.seen, "post-restore")
	n.pid = pid
	return nil
}

// startEnv00 runs the zdtm test; its launcher exits once the test is ready.
func startEnv00(bin, dir string) (int, error) {
	pidf := filepath.Join(dir, "env00.pid")
	cmd := exec.Command(bin, "--pidfile="+pidf, "--outfile="+filepath.Join(dir, "env00.out"))
	if err := cmd.Run(); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(pidf)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "-"
	}
	s := string(b)
	i := strings.LastIndex(s, ")")
	if i < 0 || i+2 >= len(s) {
		return "?"
	}
	return s[i+2 : i+3]
}

func waitFor(pid int) (syscall.WaitStatus, error) {
	var st syscall.WaitStatus
	_, err := syscall.Wait4(pid, &st, 0, nil)
	return st, err
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go-criu-test CRIU ENV00 TMPDIR")
		os.Exit(2)
	}
	criuPath, env00, tmp := os.Args[1], os.Args[2], os.Args[3]
	// PR_SET_CHILD_SUBREAPER: the dumped env00 comes back to us to be reaped
	syscall.RawSyscall(syscall.SYS_PRCTL, 36, 1, 0)

	c := criu.MakeCriu()
	c.SetCriuPath(criuPath)

	v, err := c.GetCriuVersion()
	check(err == nil && v == 40200, "GetCriuVersion: %d (%v)", v, err)
	ok, err := c.IsCriuAtLeast(31100)
	check(err == nil && ok, "IsCriuAtLeast(31100), runc's minimum: %v (%v)", ok, err)

	pid, err := startEnv00(env00, tmp)
	if !check(err == nil && pid > 0, "env00 started (pid %d, %v)", pid, err) {
		os.Exit(1)
	}
	imgs := filepath.Join(tmp, "imgs")
	os.MkdirAll(imgs, 0700)
	dir, err := os.Open(imgs)
	if !check(err == nil, "images dir opened (%v)", err) {
		os.Exit(1)
	}
	defer dir.Close()
	opts := func() *rpc.CriuOpts {
		return &rpc.CriuOpts{
			ImagesDirFd: proto.Int32(int32(dir.Fd())),
			LogLevel:    proto.Int32(4),
		}
	}

	// an option we don't implement: go-criu gets an error that names it
	o := opts()
	o.Pid = proto.Int32(int32(pid))
	o.AutoExtMnt = proto.Bool(true)
	err = c.Dump(o, nil)
	check(err != nil && strings.Contains(err.Error(), "auto_ext_mnt"), "Dump with AutoExtMnt refused: %v", err)
	state := procState(pid)
	// R or S: alive and not left stopped or traced (a loaded machine may catch it running)
	check(state == "S" || state == "R", "env00 still runs, not stopped (state %s)", state)

	n := &notes{}
	o = opts()
	o.Pid = proto.Int32(int32(pid))
	o.LogFile = proto.String("dump.log")
	// runc sets these to false: a false bool is the default, not an unsupported request
	o.TcpEstablished = proto.Bool(false)
	o.ExtUnixSk = proto.Bool(false)
	o.FileLocks = proto.Bool(false)
	o.EmptyNs = proto.Uint32(0)
	err = c.Dump(o, n)
	check(err == nil, "Dump (%v)", err)
	check(strings.Join(n.seen, ",") == "pre-dump,post-dump", "Dump notifications: %v", n.seen)
	st, err := waitFor(pid)
	check(err == nil && st.Signaled() && st.Signal() == syscall.SIGKILL, "dumped env00 killed (%v, %v)", st, err)

	n = &notes{}
	o = opts()
	o.LogFile = proto.String("restore.log")
	o.RstSibling = proto.Bool(true)
	err = c.Restore(o, n)
	check(err == nil, "Restore (%v)", err)
	check(strings.Join(n.seen, ",") == "pre-restore,post-restore", "Restore notifications: %v", n.seen)
	check(int(n.pid) == pid, "post-restore names the root: %d (dumped %d)", n.pid, pid)
	if err == nil {
		time.Sleep(50 * time.Millisecond)
		syscall.Kill(pid, syscall.SIGTERM)
		st, err = waitFor(pid)
		check(err == nil && st.Exited() && st.ExitStatus() == 0,
			"restored env00 is our child and exits 0 after SIGTERM (%v, %v)", st, err)
		out, _ := os.ReadFile(filepath.Join(tmp, "env00.out"))
		check(string(out) == "PASS\n", "env00 verdict: %q", string(out))
	}

	fmt.Printf("1..%d\n", nr)
	if failed > 0 {
		os.Exit(1)
	}
}
