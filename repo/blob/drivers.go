package blob

// The drivers register their URL schemes with gocloud's default URL mux;
// Open maps milvault's repository URLs onto them.
import (
	_ "gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob"
)
