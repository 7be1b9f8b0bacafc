package motoproc

import "syscall"

// procAttr kills moto_server with the process that started it: a test binary that panics or
// times out runs no clean-up, and an orphaned emulator would hold its port, its memory and
// any file lock the test inherited.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
