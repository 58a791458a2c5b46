// Package fakemilvus is an in-memory stand-in for a Milvus server, small
// enough to trust, for unit tests of the backup and restore pipelines
// without a server. It keeps databases, collections (schema, partitions,
// rows, indexes, load state) and aliases, and satisfies backup.Milvus and
// restore.Milvus. It models only what the pipelines rely on: Scan returns
// rows in primary-key order and only from loaded collections; Insert checks
// that every column has the batch's length. Supported field types are
// Int64, VarChar and FloatVector; partition-key collections and bulk
// import are not modelled (CanImport answers false). Real behaviour is
// proven by the integration tests against real servers.
package fakemilvus

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/milvus"
)

// Hook is called at the start of every call of the named operation ("scan"
// for each batch Scan is about to deliver, "insert", "create_collection",
// ...) with the 1-based count of that operation's calls so far; a non-nil
// error fails the call. Tests use it to inject failures or cancel a context
// part-way.
type Hook func(op string, n int) error

// Server is an in-memory Milvus. The zero value is not usable; call New.
type Server struct {
	mu      sync.Mutex
	dbs     map[string]map[string]*collection // database -> name -> collection
	aliases map[string]map[string]string      // database -> alias -> collection
	nextID  int64
	calls   map[string]int
	hook    Hook
	// Caps, when set, are the capabilities the server reports; nil means
	// every feature.
	Caps *milvus.Capabilities
}

type collection struct {
	id          int64
	schema      *schemapb.CollectionSchema
	shards      int32
	consistency commonpb.ConsistencyLevel
	props       map[string]string
	partitions  []string         // in creation order, "_default" first
	rows        map[string][]row // partition -> rows in insertion order
	indexes     []*milvuspb.IndexDescription
	loaded      map[string]bool // loaded partitions
	nextKey     int64           // for auto-id keys
}

// New returns a server holding only the empty "default" database.
func New() *Server {
	return &Server{
		dbs:     map[string]map[string]*collection{"default": {}},
		aliases: map[string]map[string]string{},
		nextID:  1000,
		calls:   map[string]int{},
	}
}

// SetHook installs h (nil removes it) and restarts the call counts.
func (s *Server) SetHook(h Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
	clear(s.calls)
}

// enter counts a call of op and runs the hook; the caller holds s.mu.
func (s *Server) enter(op string) error {
	s.calls[op]++
	if s.hook != nil {
		return s.hook(op, s.calls[op])
	}
	return nil
}

// Address returns a made-up address.
func (s *Server) Address() string { return "fakemilvus" }

// Version returns a made-up version.
func (s *Server) Version() string { return "fake" }

// Capabilities returns s.Caps, or every feature.
func (s *Server) Capabilities(ctx context.Context) (milvus.Capabilities, error) {
	if s.Caps != nil {
		return *s.Caps, nil
	}
	return milvus.AllCapabilities("fake Milvus"), nil
}

// ListDatabases returns the database names, sorted.
func (s *Server) ListDatabases(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.databases(), nil
}

func (s *Server) databases() []string {
	names := make([]string, 0, len(s.dbs))
	for n := range s.dbs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckDatabase returns a *milvus.DatabaseNotFoundError when db does not
// exist.
func (s *Server) CheckDatabase(ctx context.Context, db string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dbs[db]; !ok {
		return &milvus.DatabaseNotFoundError{Database: db, Available: s.databases()}
	}
	return nil
}

// CreateDatabase creates db when it does not exist yet.
func (s *Server) CreateDatabase(ctx context.Context, db string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("create_database"); err != nil {
		return err
	}
	if s.dbs[db] == nil {
		s.dbs[db] = map[string]*collection{}
	}
	return nil
}

// ListCollections returns the collection names of db, sorted.
func (s *Server) ListCollections(ctx context.Context, db string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dbs[db]; !ok {
		return nil, fmt.Errorf("list collections of %s: database not found", db)
	}
	return s.collections(db), nil
}

func (s *Server) collections(db string) []string {
	var names []string
	for n := range s.dbs[db] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// HasCollection reports whether db.name exists.
func (s *Server) HasCollection(ctx context.Context, db, name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.dbs[db][name]
	return ok, nil
}

// get returns db.name or a *milvus.CollectionNotFoundError; the caller
// holds s.mu.
func (s *Server) get(db, name string) (*collection, error) {
	c, ok := s.dbs[db][name]
	if !ok {
		return nil, &milvus.CollectionNotFoundError{Database: db, Collection: name, Available: s.collections(db)}
	}
	return c, nil
}

// Describe returns the collection's description as a server gives it.
func (s *Server) Describe(ctx context.Context, db, name string) (*milvuspb.DescribeCollectionResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(db, name)
	if err != nil {
		return nil, err
	}
	resp := &milvuspb.DescribeCollectionResponse{
		Schema:           proto.Clone(c.schema).(*schemapb.CollectionSchema),
		CollectionID:     c.id,
		CollectionName:   name,
		ShardsNum:        c.shards,
		ConsistencyLevel: c.consistency,
		Aliases:          s.aliasesOf(db, name),
		NumPartitions:    int64(len(c.partitions)),
	}
	for k, v := range c.props {
		resp.Properties = append(resp.Properties, &commonpb.KeyValuePair{Key: k, Value: v})
	}
	return resp, nil
}

// CreateCollection creates a collection with the schema as milvus.Client
// would send it (milvus.CreatableSchema), assigning field ids.
func (s *Server) CreateCollection(ctx context.Context, req milvus.CreateCollectionRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("create_collection"); err != nil {
		return err
	}
	schema := milvus.CreatableSchema(req.Schema)
	name := schema.GetName()
	if err := checkSchema(schema); err != nil {
		return fmt.Errorf("create collection %s: %w", name, err)
	}
	if _, ok := s.dbs[req.Database]; !ok {
		return fmt.Errorf("create collection %s: database %s not found", name, req.Database)
	}
	if _, ok := s.dbs[req.Database][name]; ok {
		return fmt.Errorf("create collection %s: it already exists", name)
	}
	for i, f := range schema.Fields {
		f.FieldID = int64(100 + i)
	}
	s.nextID++
	s.dbs[req.Database][name] = &collection{
		id: s.nextID, schema: schema, shards: max(req.ShardsNum, 1), consistency: req.ConsistencyLevel,
		props: req.Properties, partitions: []string{"_default"}, rows: map[string][]row{}, loaded: map[string]bool{},
		nextKey: 1,
	}
	return nil
}

// checkSchema refuses what the fake does not model.
func checkSchema(s *schemapb.CollectionSchema) error {
	if milvus.HasPartitionKey(s) {
		return fmt.Errorf("fakemilvus does not model partition-key collections")
	}
	if milvus.PrimaryField(s) == nil {
		return fmt.Errorf("schema has no primary key")
	}
	for _, f := range s.GetFields() {
		switch f.GetDataType() {
		case schemapb.DataType_Int64, schemapb.DataType_VarChar, schemapb.DataType_FloatVector:
		default:
			return fmt.Errorf("fakemilvus does not model field type %s (field %s)", f.GetDataType(), f.GetName())
		}
	}
	return nil
}

// DropCollection drops a collection and its aliases.
func (s *Server) DropCollection(ctx context.Context, db, coll string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("drop_collection"); err != nil {
		return err
	}
	if _, err := s.get(db, coll); err != nil {
		return err
	}
	delete(s.dbs[db], coll)
	for a, c := range s.aliases[db] {
		if c == coll {
			delete(s.aliases[db], a)
		}
	}
	return nil
}

// Partitions returns the partition names in creation order.
func (s *Server) Partitions(ctx context.Context, db, coll string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(db, coll)
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.partitions), nil
}

// CreatePartition creates a partition.
func (s *Server) CreatePartition(ctx context.Context, db, coll, partition string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("create_partition"); err != nil {
		return err
	}
	c, err := s.get(db, coll)
	if err != nil {
		return err
	}
	if slices.Contains(c.partitions, partition) {
		return fmt.Errorf("create partition %s of %s.%s: it already exists", partition, db, coll)
	}
	c.partitions = append(c.partitions, partition)
	return nil
}

// Indexes returns the collection's indexes.
func (s *Server) Indexes(ctx context.Context, db, coll string) ([]*milvuspb.IndexDescription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(db, coll)
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.indexes), nil
}

// CreateIndex records an index on field.
func (s *Server) CreateIndex(ctx context.Context, db, coll, field, name string, params map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("create_index"); err != nil {
		return err
	}
	c, err := s.get(db, coll)
	if err != nil {
		return err
	}
	if fieldIndex(c.schema, field) < 0 {
		return fmt.Errorf("create index on %s.%s: no field %s", db, coll, field)
	}
	d := &milvuspb.IndexDescription{IndexName: name, FieldName: field}
	for k, v := range params {
		d.Params = append(d.Params, &commonpb.KeyValuePair{Key: k, Value: v})
	}
	c.indexes = append(c.indexes, d)
	return nil
}

// Aliases returns the aliases of a collection, sorted.
func (s *Server) Aliases(ctx context.Context, db, coll string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.get(db, coll); err != nil {
		return nil, err
	}
	return s.aliasesOf(db, coll), nil
}

func (s *Server) aliasesOf(db, coll string) []string {
	var out []string
	for a, c := range s.aliases[db] {
		if c == coll {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// AliasTarget returns the collection alias points at, or "".
func (s *Server) AliasTarget(ctx context.Context, db, alias string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aliases[db][alias], nil
}

// CreateAlias points a new alias at coll; an existing alias is an error.
func (s *Server) CreateAlias(ctx context.Context, db, coll, alias string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("create_alias"); err != nil {
		return err
	}
	if _, err := s.get(db, coll); err != nil {
		return err
	}
	if cur, ok := s.aliases[db][alias]; ok {
		return fmt.Errorf("create alias %s.%s: it already points at %s", db, alias, cur)
	}
	if s.aliases[db] == nil {
		s.aliases[db] = map[string]string{}
	}
	s.aliases[db][alias] = coll
	return nil
}

// DropAlias removes an alias.
func (s *Server) DropAlias(ctx context.Context, db, alias string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("drop_alias"); err != nil {
		return err
	}
	delete(s.aliases[db], alias)
	return nil
}

// LoadState returns milvus.LoadStateLoaded when the collection (or every
// partition named) is loaded, else milvus.LoadStateNotLoaded.
func (s *Server) LoadState(ctx context.Context, db, coll string, partitions ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(db, coll)
	if err != nil {
		return milvus.LoadStateUnknown, err
	}
	if len(partitions) == 0 {
		partitions = c.partitions
	}
	for _, p := range partitions {
		if !c.loaded[p] {
			return milvus.LoadStateNotLoaded, nil
		}
	}
	return milvus.LoadStateLoaded, nil
}

// Load loads the collection or only the given partitions.
func (s *Server) Load(ctx context.Context, db, coll string, partitions []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("load"); err != nil {
		return err
	}
	c, err := s.get(db, coll)
	if err != nil {
		return err
	}
	if len(partitions) == 0 {
		partitions = c.partitions
	}
	for _, p := range partitions {
		if !slices.Contains(c.partitions, p) {
			return &milvus.PartitionNotFoundError{Database: db, Collection: coll, Partition: p, Available: c.partitions}
		}
		c.loaded[p] = true
	}
	return nil
}

// Release releases the whole collection.
func (s *Server) Release(ctx context.Context, db, coll string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("release"); err != nil {
		return err
	}
	c, err := s.get(db, coll)
	if err != nil {
		return err
	}
	clear(c.loaded)
	return nil
}

// RowCount returns the number of rows in the collection.
func (s *Server) RowCount(ctx context.Context, db, coll string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(db, coll)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, rs := range c.rows {
		n += int64(len(rs))
	}
	return n, nil
}

// CountRows returns the number of rows in the given partitions (all when
// partitions is empty), as count(*) does.
func (s *Server) CountRows(ctx context.Context, db, coll string, partitions []string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("count"); err != nil {
		return 0, err
	}
	c, err := s.get(db, coll)
	if err != nil {
		return 0, err
	}
	var n int64
	for part, rs := range c.rows {
		if len(partitions) == 0 || slices.Contains(partitions, part) {
			n += int64(len(rs))
		}
	}
	return n, nil
}

// Flush returns a hybrid timestamp of now; the fake keeps no segments.
func (s *Server) Flush(ctx context.Context, db, coll string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("flush"); err != nil {
		return 0, err
	}
	if _, err := s.get(db, coll); err != nil {
		return 0, err
	}
	return uint64(time.Now().UnixMilli()) << 18, nil
}

// CanImport answers false: the fake has no bulk import.
func (s *Server) CanImport(ctx context.Context) (bool, error) { return false, nil }

// Import fails: the fake has no bulk import.
func (s *Server) Import(ctx context.Context, db, coll, partition, file string) (int64, error) {
	return 0, fmt.Errorf("fakemilvus has no bulk import")
}

// WaitImport fails: the fake has no bulk import.
func (s *Server) WaitImport(ctx context.Context, id int64, progress func(milvus.ImportTask)) (milvus.ImportTask, error) {
	return milvus.ImportTask{}, fmt.Errorf("fakemilvus has no bulk import")
}
