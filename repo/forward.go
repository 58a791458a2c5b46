package repo

import (
	"context"
	"errors"
)

// ErrUnsupported is returned by a wrapper's optional method when the store
// it wraps does not implement that method.
var ErrUnsupported = errors.New("not supported by this store")

// Extended is a store that has every optional method. Wrappers implement it
// so that they can pass the optional interfaces of the store they wrap on;
// Forward then hides the methods the wrapped store does not really have.
type Extended interface {
	Store
	LocalPather
	PrefixDeleter
	FreeSpacer
	FolderLister
}

// Forward returns w exposing exactly the optional interfaces (LocalPather,
// PrefixDeleter, FreeSpacer, FolderLister) that inner implements, so that a
// type assertion on a wrapped store gives the same answer as on the store
// itself. Calls go to w, which forwards them through its own logic.
func Forward(w Extended, inner Store) Store {
	mask := 0
	if _, ok := inner.(LocalPather); ok {
		mask |= 1
	}
	if _, ok := inner.(PrefixDeleter); ok {
		mask |= 2
	}
	if _, ok := inner.(FreeSpacer); ok {
		mask |= 4
	}
	if _, ok := inner.(FolderLister); ok {
		mask |= 8
	}
	return forwarders[mask](w)
}

// forwarders[mask] builds a value with the store methods of w plus the
// optional interfaces whose bits are set in mask (1 LocalPather, 2
// PrefixDeleter, 4 FreeSpacer, 8 FolderLister).
var forwarders = [16]func(w Extended) Store{
	func(w Extended) Store { return struct{ Store }{w} },
	func(w Extended) Store {
		return struct {
			Store
			LocalPather
		}{w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			PrefixDeleter
		}{w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			LocalPather
			PrefixDeleter
		}{w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			FreeSpacer
		}{w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			LocalPather
			FreeSpacer
		}{w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			PrefixDeleter
			FreeSpacer
		}{w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			LocalPather
			PrefixDeleter
			FreeSpacer
		}{w, w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			FolderLister
		}{w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			LocalPather
			FolderLister
		}{w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			PrefixDeleter
			FolderLister
		}{w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			LocalPather
			PrefixDeleter
			FolderLister
		}{w, w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			FreeSpacer
			FolderLister
		}{w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			LocalPather
			FreeSpacer
			FolderLister
		}{w, w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			PrefixDeleter
			FreeSpacer
			FolderLister
		}{w, w, w, w}
	},
	func(w Extended) Store {
		return struct {
			Store
			LocalPather
			PrefixDeleter
			FreeSpacer
			FolderLister
		}{w, w, w, w, w}
	},
}

// Optional is embedded by wrappers to implement the optional interfaces by
// calling the wrapped store's own methods directly. A wrapper overrides the
// methods it needs to act on (retry DeleteAll, log it, inject faults).
type Optional struct{ Inner Store }

// LocalPath returns the inner store's local path, or "" when it has none.
func (o Optional) LocalPath(name string) string {
	if lp, ok := o.Inner.(LocalPather); ok {
		return lp.LocalPath(name)
	}
	return ""
}

// DeleteAll removes everything under prefix with the inner store's
// DeleteAll, or file by file when it has none.
func (o Optional) DeleteAll(ctx context.Context, prefix string) error {
	if pd, ok := o.Inner.(PrefixDeleter); ok {
		return pd.DeleteAll(ctx, prefix)
	}
	files, err := o.Inner.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := o.Inner.Delete(ctx, f.Name); err != nil {
			return err
		}
	}
	return nil
}

// FreeSpace returns the inner store's free space, or ErrUnsupported.
func (o Optional) FreeSpace() (int64, error) {
	if fs, ok := o.Inner.(FreeSpacer); ok {
		return fs.FreeSpace()
	}
	return 0, ErrUnsupported
}

// Folders returns the inner store's folders under prefix, or none.
func (o Optional) Folders(ctx context.Context, prefix string) ([]string, error) {
	if fl, ok := o.Inner.(FolderLister); ok {
		return fl.Folders(ctx, prefix)
	}
	return nil, nil
}
