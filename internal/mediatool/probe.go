package mediatool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Info is what ffprobe reports about a video. Unknown numbers are 0 and
// unknown codecs "".
type Info struct {
	// DurationSeconds is the container's duration (else the longest
	// stream's).
	DurationSeconds float64
	// SizeBytes is the file size ffprobe saw.
	SizeBytes int64
	// BitRate is the overall bit rate in bits per second.
	BitRate int64
	// Format is ffprobe's format_name ("mov,mp4,m4a,3gp,3g2,mj2").
	Format string
	// Width and Height are the picture's displayed size: a rotation of
	// ±90° (phone videos) swaps the coded width and height.
	Width, Height int
	// FrameRate is the average frame rate in frames per second.
	FrameRate float64
	// VideoCodec and AudioCodec are codec names ("h264", "aac"); AudioCodec
	// is "" for a video without sound.
	VideoCodec, AudioCodec string
	// BytesRead is how many bytes storage sent to ffprobe (it reads the
	// header with range requests, not the whole file).
	BytesRead int64
}

// maxProbeOutput bounds ffprobe's JSON (a file with thousands of streams
// is not a video we want).
const maxProbeOutput = 4 << 20

// Probe runs ffprobe on readURL (which must be on the storage endpoint)
// and returns what it found. It returns an error matching ErrUnreadable,
// with a reason in words, when the input is not a video ffprobe can read
// or has no video track; ErrForbiddenURL for a URL elsewhere; any other
// error is transient.
func (r *Runner) Probe(ctx context.Context, readURL string) (Info, error) {
	if err := r.checkInput(readURL); err != nil {
		return Info{}, err
	}
	path, err := r.ffprobe()
	if err != nil {
		return Info{}, err
	}
	argv := []string{path, "-v", "error", "-hide_banner",
		"-protocol_whitelist", protocols,
		"-print_format", "json", "-show_format", "-show_streams",
		"-i", readURL}
	p, err := r.start(ctx, argv, r.opts.ProbeTimeout, startConfig{})
	if err != nil {
		return Info{}, err
	}
	out, readErr := io.ReadAll(io.LimitReader(p.Stdout, maxProbeOutput+1))
	if readErr == nil && len(out) > maxProbeOutput {
		p.Kill()
		readErr = errors.New("ffprobe: output too large")
	}
	if err := p.Wait(); err != nil {
		return Info{}, err
	}
	if readErr != nil {
		return Info{}, fmt.Errorf("read ffprobe output: %w", readErr)
	}
	info, err := parseProbe(out)
	if err != nil {
		return Info{}, err
	}
	info.BytesRead = p.BytesRead()
	return info, nil
}

// probeOutput is the part of ffprobe's JSON that Info needs.
type probeOutput struct {
	Streams []struct {
		CodecType    string            `json:"codec_type"`
		CodecName    string            `json:"codec_name"`
		Width        int               `json:"width"`
		Height       int               `json:"height"`
		AvgFrameRate string            `json:"avg_frame_rate"`
		RFrameRate   string            `json:"r_frame_rate"`
		Duration     string            `json:"duration"`
		Tags         map[string]string `json:"tags"`
		Disposition  map[string]int    `json:"disposition"`
		SideData     []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		Size       string `json:"size"`
		BitRate    string `json:"bit_rate"`
	} `json:"format"`
}

// parseProbe turns ffprobe's JSON into an Info. A file without a video
// stream (cover art does not count) is unreadable.
func parseProbe(out []byte) (Info, error) {
	var po probeOutput
	if err := json.Unmarshal(out, &po); err != nil {
		return Info{}, fmt.Errorf("parse ffprobe output: %w", err)
	}
	var info Info
	info.Format = po.Format.FormatName
	info.DurationSeconds = number(po.Format.Duration)
	info.SizeBytes = int64(number(po.Format.Size))
	info.BitRate = int64(number(po.Format.BitRate))
	video := false
	for _, s := range po.Streams {
		switch s.CodecType {
		case "video":
			if video || s.Disposition["attached_pic"] == 1 || s.Width <= 0 || s.Height <= 0 {
				continue
			}
			video = true
			info.VideoCodec, info.Width, info.Height = s.CodecName, s.Width, s.Height
			info.FrameRate = rate(s.AvgFrameRate)
			if info.FrameRate == 0 {
				info.FrameRate = rate(s.RFrameRate)
			}
			rot := number(s.Tags["rotate"])
			for _, sd := range s.SideData {
				if sd.Rotation != 0 {
					rot = sd.Rotation
				}
			}
			if r := math.Mod(math.Abs(rot), 180); r == 90 {
				info.Width, info.Height = info.Height, info.Width
			}
			if info.DurationSeconds == 0 {
				info.DurationSeconds = number(s.Duration)
			}
		case "audio":
			if info.AudioCodec == "" {
				info.AudioCodec = s.CodecName
			}
		}
	}
	if !video {
		return Info{}, &UnreadableError{Reason: "the file has no video track"}
	}
	return info, nil
}

// number parses a decimal; "N/A", "" and non-finite values are 0.
func number(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}

// rate parses "30000/1001"; "0/0" is 0.
func rate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		return number(s)
	}
	n, d := number(num), number(den)
	if d == 0 {
		return 0
	}
	return n / d
}
