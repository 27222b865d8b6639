package archive

// SyncEachFile makes l sync each file and directory, as where the system cannot sync a
// whole filesystem, so that tests on Linux cover that way too.
func (l *Local) SyncEachFile() { l.wholeFS = false }
