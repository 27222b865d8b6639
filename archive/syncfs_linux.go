package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// canSyncFS says that syncFS works here.
const canSyncFS = true

// syncFS makes everything written to the filesystem holding dir durable (syncfs(2): file
// data and metadata, and writeback errors since Linux 5.8).
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
