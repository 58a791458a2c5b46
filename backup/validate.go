package backup

import "github.com/milvault/milvault/errkind"

// Validate checks p without touching the repository or Milvus, so that
// callers can refuse bad parameters before they open or dial anything.
// Its errors are of kind errkind.Usage.
func (p Params) Validate() error {
	_, err := p.normalize()
	return errkind.Wrap(errkind.Usage, err)
}
