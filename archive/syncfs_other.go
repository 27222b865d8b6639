//go:build !linux

package archive

import "errors"

// canSyncFS says that syncFS does not work here: files and directories are synced one
// by one.
const canSyncFS = false

func syncFS(string) error { return errors.ErrUnsupported }
