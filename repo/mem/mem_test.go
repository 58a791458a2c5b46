package mem

import (
	"testing"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) repo.Store { return New() })
}
