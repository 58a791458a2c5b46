package milvus

// Kind methods classify the package's errors for errkind.Of, which maps them
// to exit codes and HTTP statuses.

import "github.com/milvault/milvault/errkind"

// Kind reports errkind.NotFound.
func (*CollectionNotFoundError) Kind() errkind.Kind { return errkind.NotFound }

// Kind reports errkind.NotFound.
func (*PartitionNotFoundError) Kind() errkind.Kind { return errkind.NotFound }

// Kind reports errkind.NotFound.
func (*DatabaseNotFoundError) Kind() errkind.Kind { return errkind.NotFound }

// Kind reports errkind.Unreachable.
func (*UnreachableError) Kind() errkind.Kind { return errkind.Unreachable }

// Kind reports errkind.Usage: the address was mistyped.
func (*AddressError) Kind() errkind.Kind { return errkind.Usage }
