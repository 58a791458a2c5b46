package deploy

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile checks the Dockerfile without Docker: a build stage that
// runs `make build` (the binary `make build` makes, static), a distroless
// final stage, a numeric non-root user, milvault as the entrypoint.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(froms) != 2 || !strings.HasPrefix(froms[1][1], "gcr.io/distroless/static") {
		t.Errorf("FROM lines %v: want a build stage and a distroless static final stage", froms)
	}
	for _, want := range []string{"CGO_ENABLED=0 make build", "USER 65532:65532", `ENTRYPOINT ["/usr/local/bin/milvault"]`, "COPY --from=build /src/bin/milvault "} {
		if !strings.Contains(text, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
}

// TestDockerImage builds the image with scripts/docker-build.sh (which also
// checks `milvault version` and the user in it) where a Docker daemon runs.
func TestDockerImage(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker client on PATH: the image is not built here")
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("no Docker daemon answers (docker info: %v: %s): the image is not built here", err, firstLine(out))
	}
	if testing.Short() {
		t.Skip("-short: the image build takes minutes")
	}
	cmd := exec.Command("bash", "../scripts/docker-build.sh", "milvault:test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/docker-build.sh: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

func firstLine(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); strings.Contains(strings.ToLower(l), "cannot") || strings.Contains(strings.ToLower(l), "error") {
			return l
		}
	}
	return strings.TrimSpace(string(b))
}
