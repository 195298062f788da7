package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/auth"
)

// QueueMessage is the body of a message on the imports, processing and
// publish queues (API.md): the worker loads everything else from PostgreSQL.
type QueueMessage struct {
	VideoID uuid.UUID `json:"video_id"`
	// Task is the processing queue's job: "probe" (also when empty) or
	// "clip".
	Task string `json:"task,omitempty"`
	// ClipID names the clip of a "clip" task.
	ClipID *uuid.UUID `json:"clip_id,omitempty"`
	// PostID names the post of a publish-queue message ({"post_id"}),
	// which has no video_id.
	PostID *uuid.UUID `json:"post_id,omitempty"`
}

// Delivery describes one delivery of a Service Bus message, from the
// invocation metadata. DeliveryCount starts at 1.
type Delivery struct {
	MessageID     string
	DeliveryCount int64
	EnqueuedTime  time.Time
}

// MessageHandler processes one queue message. It must be idempotent (a
// message may arrive more than once), record permanent failures itself and
// return nil for them, and return an error only when a redelivery may
// succeed.
type MessageHandler interface {
	HandleMessage(ctx context.Context, msg QueueMessage, d Delivery) error
}

// Sweeper runs periodic maintenance for the import-sweeper timer.
// It returns a short summary for the invocation log.
type Sweeper interface {
	Sweep(ctx context.Context, now time.Time) (summary string, err error)
}

// messageBinding is the trigger binding name used in every queue
// function.json; with dataType binary its value is the base64 body, but
// Invocation.Message takes every form the host may send.
const messageBinding = "message"

// queueTrigger decodes a Service Bus invocation and hands the message to h.
func (s *Server) queueTrigger(h MessageHandler) TriggerFunc {
	return func(r *http.Request, inv *Invocation) ([]string, error) {
		body, err := inv.Message(messageBinding)
		if err != nil {
			return nil, err
		}
		msg, err := DecodeQueueMessage(body)
		if err != nil {
			return nil, err
		}
		if h == nil {
			return nil, ErrUnavailable
		}
		d := Delivery{MessageID: inv.MetaString("MessageId")}
		d.DeliveryCount, _ = inv.MetaInt("DeliveryCount")
		d.EnqueuedTime, _ = inv.MetaTime("EnqueuedTimeUtc")
		if err := h.HandleMessage(r.Context(), msg, d); err != nil {
			return nil, err
		}
		subject := "video " + msg.VideoID.String()
		if msg.PostID != nil {
			subject = "post " + msg.PostID.String()
		}
		return []string{fmt.Sprintf("message %s for %s handled (delivery %d)", d.MessageID, subject, d.DeliveryCount)}, nil
	}
}

// DecodeQueueMessage parses a message body of either queue. The error, for
// a body that can never be processed, maps to 400 invalid_message.
func DecodeQueueMessage(body []byte) (QueueMessage, error) {
	var msg QueueMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return QueueMessage{}, invalidMessage("the body must be a JSON object such as {\"video_id\":\"<uuid>\"}")
	}
	if msg.VideoID == uuid.Nil && (msg.PostID == nil || *msg.PostID == uuid.Nil) {
		return QueueMessage{}, invalidMessage("video_id (or post_id on the publish queue) is required")
	}
	return msg, nil
}

// MailHandler delivers one outbox mail (auth.Service.DeliverMail): it is
// idempotent, records permanent failures itself and returns an error only
// when a redelivery may succeed.
type MailHandler interface {
	DeliverMail(ctx context.Context, id uuid.UUID) error
}

// mailTrigger decodes a mail queue invocation ({"mail_id":"<uuid>"}) and
// delivers the mail.
func (s *Server) mailTrigger() TriggerFunc {
	return func(r *http.Request, inv *Invocation) ([]string, error) {
		body, err := inv.Message(messageBinding)
		if err != nil {
			return nil, err
		}
		id, err := auth.DecodeMailMessage(body)
		if err != nil {
			return nil, invalidMessage("%s", err.Error())
		}
		if s.mailSender == nil {
			return nil, ErrUnavailable
		}
		if err := s.mailSender.DeliverMail(r.Context(), id); err != nil {
			return nil, err
		}
		count, _ := inv.MetaInt("DeliveryCount")
		return []string{fmt.Sprintf("message %s for mail %s handled (delivery %d)", inv.MetaString("MessageId"), id, count)}, nil
	}
}

// timerInfo is the timer trigger's payload.
type timerInfo struct {
	IsPastDue bool `json:"IsPastDue"`
}

// timerBinding is the binding name in import-sweeper's function.json.
const timerBinding = "timer"

func (s *Server) sweepTrigger(sw Sweeper) TriggerFunc {
	return func(r *http.Request, inv *Invocation) ([]string, error) {
		raw, err := inv.JSON(timerBinding)
		if err != nil {
			return nil, err
		}
		var ti timerInfo
		if err := json.Unmarshal(raw, &ti); err != nil {
			return nil, invalidEnvelope("Data.timer is not a timer payload")
		}
		summary, err := sw.Sweep(r.Context(), s.now())
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("sweep done (past due: %t): %s", ti.IsPastDue, summary)}, nil
	}
}
