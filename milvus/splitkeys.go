package milvus

import "context"

// SplitKeys reads the primary keys of req's selection (keys only, at
// req.GuaranteeTs) and returns the n-1 keys that cut it into n key ranges
// of equal row counts: range i holds the keys after bound i-1 (or from the
// first key) up to and including bound i (or to the last key). It returns
// no bounds when the selection holds fewer than n rows. It keeps every key
// in memory (8 bytes per Int64 key, the key's length per VarChar key), so
// that the bounds are exact; a sharded backup (backup.BeginShards) calls it
// once per partition.
func (c *Client) SplitKeys(ctx context.Context, req ScanRequest, n int) ([]any, error) {
	req.BatchRows = keyPassRows
	req.Workers = 1
	pk := req.PrimaryKey.GetName()
	s, err := newScanner(c, req)
	if err != nil {
		return nil, err
	}
	s.output = []string{pk}
	var keys []any
	err = s.run(ctx, func(b Batch) error {
		f := findField(b.Fields, pk)
		for i := range b.Rows {
			keys = append(keys, keyAt(f, i))
		}
		return nil
	})
	if err != nil || n < 2 || len(keys) < n {
		return nil, err
	}
	bounds := make([]any, n-1)
	for k := range bounds {
		bounds[k] = keys[(k+1)*len(keys)/n-1]
	}
	return bounds, nil
}
