// Package compat holds the test that keeps old repositories readable: the
// repositories under testdata/repositories were written by earlier versions
// of milvault's repository format, and every later version must still list,
// verify and restore them to the rows recorded beside them (the idea of
// kopia's tests/compat_test). It has no code of its own.
package compat
