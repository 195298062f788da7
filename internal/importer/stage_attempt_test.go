package importer

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/testenv"
)

// TestBlockIDsAreFencedByAttempt: the IDs of two attempts never meet, are
// deterministic within one, and all have the length the IDs had before
// attempts were in them (Blob Storage refuses a block ID of another length
// than the blob's other blocks).
func TestBlockIDsAreFencedByAttempt(t *testing.T) {
	const before = "YmxvY2stMDAwMDAwMDA=" // base64("block-00000000")
	seen := map[string]bool{}
	for _, a := range []Attempt{1, 2, 1 << 40} {
		for _, i := range []int{0, 1, maxBlocks - 1} {
			id := blockID(a, i)
			if len(id) != len(before) {
				t.Errorf("blockID(%d, %d) = %q: %d characters, want %d", a, i, id, len(id), len(before))
			}
			if seen[id] {
				t.Errorf("blockID(%d, %d) = %q is used twice", a, i, id)
			}
			seen[id] = true
			if again := blockID(a, i); again != id {
				t.Errorf("blockID(%d, %d) is not deterministic: %q then %q", a, i, id, again)
			}
		}
	}
}

// TestLateCommitOfASupersededAttemptFails checks, against the storage
// emulator, what Run relies on when a superseded attempt commits after the
// winner (in the gap between its last check and its commit): the winner's
// commit discarded the loser's uncommitted blocks, so the loser's commit
// fails and the blob keeps the winner's bytes. Blocks of an import started
// before attempts were in the IDs do not stop a new attempt either.
func TestLateCommitOfASupersededAttemptFails(t *testing.T) {
	ctx := context.Background()
	store, err := blob.New(blob.Options{ConnectionString: testenv.Storage(t), Container: testenv.ContainerName()})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureContainer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Container().Delete(context.Background(), nil) })
	bb := store.Container().NewBlockBlobClient("u/v/source")
	stage := func(id, body string) {
		t.Helper()
		if _, err := bb.StageBlock(ctx, id, readSeekNopCloser{bytes.NewReader([]byte(body))}, nil); err != nil {
			t.Fatalf("stage %s: %v", id, err)
		}
	}
	stage("YmxvY2stMDAwMDAwMDA=", "old") // an import in flight across the upgrade
	stage(blockID(1, 0), "loser")
	stage(blockID(2, 0), "winner")
	if _, err := bb.CommitBlockList(ctx, []string{blockID(2, 0)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := bb.CommitBlockList(ctx, []string{blockID(1, 0)}, nil); err == nil {
		t.Error("the superseded attempt's late commit succeeded")
	}
	resp, err := bb.DownloadStream(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "winner" {
		t.Errorf("blob holds %q, want the winner's bytes", got)
	}
}
