// Package guard is a transparent proxy for the Milvus gRPC protocol that
// makes destructive calls undoable.
//
// Applications point at the guard instead of Milvus and change nothing
// else. Every RPC, unary or streaming, is forwarded as it is, with its
// metadata (authentication, database) and the server's headers and
// trailers, without being decoded: the guard registers no service and
// handles every method with grpc's UnknownServiceHandler and a codec that
// passes message bytes through in gRPC's own buffers, without copying
// them (see passCodec). Only the methods in
// Guard.intercepts are decoded (milvus-proto go-api types):
//
//   - DropCollection is handled by Policy: PolicyTrash renames the
//     collection into the trash (RenameCollection on the server, with its
//     aliases recorded first so that Trash.Restore can put them back),
//     PolicyBackup takes a milvault backup and then forwards the drop,
//     PolicyRefuse answers PermissionDenied with the reason.
//   - DropPartition and DropDatabase are refused or forwarded (a partition
//     cannot be renamed on Milvus 2.3, so there is no trash for it).
//
// Each intercepted drop is recorded in the repository's audit trail. The
// trash index lives in the repository under guard/trash/ (see Trash), so
// that the repository's encryption applies to it.
package guard
