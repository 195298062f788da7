package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/videofn/videofn/internal/config"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/queue"
)

const dlqUsage = `usage: handler dlq list|show|replay|purge --queue <name> [--json] [ids... | --all] [--yes]
  list    the queue's dead letters (up to --max, default 100)
  show    one dead letter: body, reason, description, delivery count, enqueued time
  replay  send a copy of each (same body and properties, a new message id),
          then remove the dead letter
  purge   delete dead letters; refuses without --yes
  --queue is one of IMPORT_QUEUE, PROCESSING_QUEUE, MAIL_QUEUE, PUBLISH_QUEUE
  (imports, video-processing, mail, publish by default). Service Bus when it
  is configured, otherwise the local queue in DATABASE_URL.`

// parseInterleaved parses flags anywhere among the arguments (ids may come
// before --yes) and returns the others.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// dlq runs `handler dlq`: the wiring; the work is queue.DeadLetters'.
func dlq(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("dlq needs a command\n%s", dlqUsage)
	}
	op := args[0]
	if op == "help" || op == "-h" || op == "--help" {
		fmt.Fprintln(stdout, dlqUsage)
		return nil
	}
	fs := flag.NewFlagSet("dlq", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("queue", "", "")
	asJSON := fs.Bool("json", false, "")
	all := fs.Bool("all", false, "")
	yes := fs.Bool("yes", false, "")
	max := fs.Int("max", 100, "")
	ids, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return fmt.Errorf("dlq: %w\n%s", err, dlqUsage)
	}
	if *name == "" {
		return fmt.Errorf("dlq %s needs --queue\n%s", op, dlqUsage)
	}
	sel := queue.Selection{All: *all, IDs: ids}
	switch op {
	case "list":
		if len(ids) > 0 || *all || *max < 1 {
			return fmt.Errorf("dlq list takes --queue, --max (at least 1) and --json only\n%s", dlqUsage)
		}
	case "show":
		if len(ids) != 1 || *all {
			return fmt.Errorf("dlq show takes exactly one message id\n%s", dlqUsage)
		}
	case "replay", "purge":
		if err := sel.Validate(); err != nil {
			return fmt.Errorf("dlq %s: %w\n%s", op, err, dlqUsage)
		}
		if op == "purge" && !*yes {
			return errors.New("dlq purge deletes dead letters for good: add --yes")
		}
	default:
		return fmt.Errorf("unknown dlq command %q\n%s", op, dlqUsage)
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	known := []string{cfg.ImportQueue, cfg.ProcessingQueue, cfg.MailQueue, cfg.PublishQueue}
	if !slices.Contains(known, *name) {
		return fmt.Errorf("dlq: unknown queue %q: want one of %s", *name, strings.Join(known, ", "))
	}
	backend, closeBackend, err := openDeadLetters(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeBackend()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()

	switch op {
	case "list", "show":
		n := *max
		if op == "show" {
			n = 1 << 16 // Peek has no lookup by id: the whole sub-queue, bounded
		}
		dls, err := backend.PeekDeadLetters(ctx, *name, n)
		if err != nil {
			return err
		}
		if op == "show" {
			i := slices.IndexFunc(dls, func(d queue.DeadLetter) bool { return d.ID == ids[0] })
			if i < 0 {
				return fmt.Errorf("%w: %s on queue %s", queue.ErrNoDeadLetter, ids[0], *name)
			}
			return showDeadLetter(stdout, dls[i], *asJSON)
		}
		return listDeadLetters(stdout, dls, *asJSON)
	case "replay":
		replayed, err := backend.ReplayDeadLetters(ctx, *name, sel)
		if perr := printIDs(stdout, "replayed", replayed, *asJSON); perr != nil && err == nil {
			err = perr
		}
		return err
	default:
		purged, err := backend.PurgeDeadLetters(ctx, *name, sel)
		m := map[string]string{}
		for _, id := range purged {
			m[id] = ""
		}
		if perr := printIDs(stdout, "purged", m, *asJSON); perr != nil && err == nil {
			err = perr
		}
		return err
	}
}

// openDeadLetters returns Service Bus when configured, else the local queue.
func openDeadLetters(ctx context.Context, cfg *config.Config) (queue.DeadLetters, func(), error) {
	if cfg.UsesServiceBus() {
		sb, _, err := newQueueSender(cfg, nil, nil)
		if err != nil {
			return nil, nil, err
		}
		b := sb.(*queue.ServiceBus)
		return b, func() { _ = b.Close(context.Background()) }, nil
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		return nil, nil, err
	}
	return queue.NewLocal(db.Pool(), nil), db.Close, nil
}

// bodyText is a body for a terminal: as is when it is text, else base64 by JSON.
func bodyText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	j, _ := json.Marshal(b)
	return "base64:" + strings.Trim(string(j), `"`)
}

func listDeadLetters(w io.Writer, dls []queue.DeadLetter, asJSON bool) error {
	if asJSON {
		if dls == nil {
			dls = []queue.DeadLetter{}
		}
		return json.NewEncoder(w).Encode(dls)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDELIVERIES\tENQUEUED\tREASON\tDESCRIPTION")
	for _, d := range dls {
		desc := d.Description
		if r := []rune(desc); len(r) > 60 {
			desc = string(r[:59]) + "…"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", d.ID, d.DeliveryCount, d.EnqueuedAt.UTC().Format(time.RFC3339), d.Reason,
			strings.ReplaceAll(desc, "\n", " "))
	}
	return tw.Flush()
}

func showDeadLetter(w io.Writer, d queue.DeadLetter, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(d)
	}
	fmt.Fprintf(w, "id:             %s\nreason:         %s\ndescription:    %s\ndelivery count: %d\nenqueued:       %s\n",
		d.ID, d.Reason, d.Description, d.DeliveryCount, d.EnqueuedAt.UTC().Format(time.RFC3339Nano))
	if len(d.Properties) > 0 {
		p, _ := json.Marshal(d.Properties)
		fmt.Fprintf(w, "properties:     %s\n", p)
	}
	_, err := fmt.Fprintf(w, "body:\n%s\n", bodyText(d.Body))
	return err
}

func printIDs(w io.Writer, verb string, ids map[string]string, asJSON bool) error {
	keys := make([]string, 0, len(ids))
	for k := range ids {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if asJSON {
		type item struct {
			ID    string `json:"id"`
			NewID string `json:"new_id,omitempty"`
		}
		out := struct {
			Count int    `json:"count"`
			Items []item `json:"items"`
		}{Count: len(keys), Items: []item{}}
		for _, k := range keys {
			out.Items = append(out.Items, item{k, ids[k]})
		}
		return json.NewEncoder(w).Encode(out)
	}
	for _, k := range keys {
		if ids[k] != "" {
			fmt.Fprintf(w, "%s %s as %s\n", verb, k, ids[k])
		} else {
			fmt.Fprintf(w, "%s %s\n", verb, k)
		}
	}
	_, err := fmt.Fprintf(w, "%s %d dead letter(s)\n", verb, len(keys))
	return err
}
