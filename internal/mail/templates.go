package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
)

// Kind names one of the auth emails that Render knows. The zero Kind is not
// a valid template.
type Kind int

// The auth emails. Every kind needs Data.Link and Data.AppName; VerifyEmail
// and ResetPassword also need Data.ExpiresIn.
const (
	// VerifyEmail asks the user to confirm their address; Link goes to
	// <FRONTEND_URL>/auth/verify?token=....
	VerifyEmail Kind = iota + 1
	// AlreadyRegistered tells the owner of an address that someone tried to
	// register it again; Link goes to the login or password reset page.
	AlreadyRegistered
	// ResetPassword carries a password reset link; Link goes to
	// <FRONTEND_URL>/auth/reset-password?token=....
	ResetPassword
	// PasswordChanged notifies that the password was changed; Link goes to
	// the password reset page, for when it was not the user.
	PasswordChanged
)

// String returns the kind's snake_case name, for logs.
func (k Kind) String() string {
	switch k {
	case VerifyEmail:
		return "verify_email"
	case AlreadyRegistered:
		return "already_registered"
	case ResetPassword:
		return "reset_password"
	case PasswordChanged:
		return "password_changed"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Data fills a template.
type Data struct {
	// Name greets the recipient ("Hi Jane,"); empty gives "Hello,". Render
	// strips control and formatting characters and shortens it to 64
	// characters. For VerifyEmail the name was typed by whoever registered
	// the address, who may not own it: callers may prefer to leave it empty.
	Name string
	// Link is the URL the email is about, built by the caller. Required.
	Link string
	// AppName is the product's name as shown to users. Required.
	AppName string
	// ExpiresIn is how long Link stays valid, written in words ("24 hours").
	// Required for VerifyEmail and ResetPassword, ignored otherwise.
	ExpiresIn time.Duration
}

// maxNameRunes caps the greeting name, which may be chosen by a stranger.
const maxNameRunes = 64

// Render builds the Message to `to` for one of the known templates: Subject
// and Text from text/template, HTML from html/template (so Name and the
// other values are escaped, and a Link that is not http(s) is neutralised).
// Both bodies contain Link. It returns an error for an unknown kind or
// missing required Data; it does not validate `to` (Send does).
func Render(kind Kind, to string, data Data) (Message, error) {
	c, ok := contentFor(kind)
	if !ok {
		return Message{}, fmt.Errorf("render %s: unknown template", kind)
	}
	switch {
	case strings.TrimSpace(data.Link) == "":
		return Message{}, fmt.Errorf("render %s: link is empty", kind)
	case strings.TrimSpace(data.AppName) == "":
		return Message{}, fmt.Errorf("render %s: app name is empty", kind)
	case c.expires && data.ExpiresIn <= 0:
		return Message{}, fmt.Errorf("render %s: expiry is not set", kind)
	}
	v := view{
		Name:    cleanName(data.Name),
		Link:    data.Link,
		AppName: data.AppName,
	}
	if c.expires {
		v.ExpiresIn = humanDuration(data.ExpiresIn)
	}

	// Templates are parsed per call: auth mails are rare, and this keeps the
	// package free of globals.
	subject, err := execText(c.subject, v)
	if err != nil {
		return Message{}, fmt.Errorf("render %s subject: %w", kind, err)
	}
	v.Subject = subject
	text, err := execText(textLayout+`{{define "content"}}`+c.text+`{{end}}`, v)
	if err != nil {
		return Message{}, fmt.Errorf("render %s text: %w", kind, err)
	}
	html, err := execHTML(htmlLayout+`{{define "content"}}`+c.html+`{{end}}`, v)
	if err != nil {
		return Message{}, fmt.Errorf("render %s html: %w", kind, err)
	}
	return Message{To: to, Subject: subject, Text: text, HTML: html}, nil
}

// view is what the templates see.
type view struct {
	Subject, Name, Link, AppName, ExpiresIn string
}

// content is one kind's templates: subject and text for text/template, html
// for html/template. expires says whether the kind states an expiry.
type content struct {
	subject, text, html string
	expires             bool
}

func contentFor(kind Kind) (content, bool) {
	switch kind {
	case VerifyEmail:
		return content{
			subject: `Confirm your email`,
			text: `Please confirm your email address to finish setting up your {{.AppName}} account:

{{.Link}}

This link expires in {{.ExpiresIn}}. If you did not sign up for {{.AppName}}, you can ignore this email.`,
			html: `<p style="margin:0 0 16px">Please confirm your email address to finish setting up your {{.AppName}} account.</p>
{{template "button" (button .Link "Confirm email")}}
<p style="margin:0 0 16px">This link expires in {{.ExpiresIn}}. If you did not sign up for {{.AppName}}, you can ignore this email.</p>`,
			expires: true,
		}, true
	case AlreadyRegistered:
		return content{
			subject: `Your {{.AppName}} account already exists`,
			text: `Someone tried to sign up for {{.AppName}} with this email address, but an account already exists for it. You can log in, or reset your password if you have forgotten it:

{{.Link}}

If this was not you, you can ignore this email. Your account has not been changed.`,
			html: `<p style="margin:0 0 16px">Someone tried to sign up for {{.AppName}} with this email address, but an account already exists for it. You can log in, or reset your password if you have forgotten it.</p>
{{template "button" (button .Link (print "Go to " .AppName))}}
<p style="margin:0 0 16px">If this was not you, you can ignore this email. Your account has not been changed.</p>`,
		}, true
	case ResetPassword:
		return content{
			subject: `Reset your password`,
			text: `We received a request to reset the password of your {{.AppName}} account. To choose a new password, open this link:

{{.Link}}

This link expires in {{.ExpiresIn}}. If you did not ask to reset your password, you can ignore this email; your password will not change.`,
			html: `<p style="margin:0 0 16px">We received a request to reset the password of your {{.AppName}} account. To choose a new password, use the button below.</p>
{{template "button" (button .Link "Reset password")}}
<p style="margin:0 0 16px">This link expires in {{.ExpiresIn}}. If you did not ask to reset your password, you can ignore this email; your password will not change.</p>`,
			expires: true,
		}, true
	case PasswordChanged:
		return content{
			subject: `Your password was changed`,
			text: `The password of your {{.AppName}} account was just changed. If you made this change, there is nothing else to do.

If you did not, reset your password now to secure your account:

{{.Link}}`,
			html: `<p style="margin:0 0 16px">The password of your {{.AppName}} account was just changed. If you made this change, there is nothing else to do.</p>
<p style="margin:0 0 16px">If you did not, reset your password now to secure your account.</p>
{{template "button" (button .Link "Reset password")}}`,
		}, true
	}
	return content{}, false
}

const textLayout = `{{if .Name}}Hi {{.Name}},{{else}}Hello,{{end}}

{{template "content" .}}

The {{.AppName}} team
`

const htmlLayout = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#18181b">
<div style="max-width:480px;margin:0 auto;padding:32px;background:#ffffff;border-radius:8px">
<p style="margin:0 0 16px">{{if .Name}}Hi {{.Name}},{{else}}Hello,{{end}}</p>
{{template "content" .}}
<p style="margin:24px 0 0;font-size:13px;color:#71717a">The {{.AppName}} team</p>
</div>
</body>
</html>
{{define "button"}}<p style="margin:24px 0"><a href="{{.Link}}" style="display:inline-block;padding:12px 20px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">{{.Label}}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#71717a;word-break:break-all">If the button does not work, copy this link into your browser:<br><a href="{{.Link}}" style="color:#2563eb">{{.Link}}</a></p>{{end}}`

func execText(src string, v view) (string, error) {
	t, err := texttemplate.New("mail").Option("missingkey=error").Parse(src)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func execHTML(src string, v view) (string, error) {
	t, err := htmltemplate.New("mail").Option("missingkey=error").Funcs(htmltemplate.FuncMap{
		"button": func(link, label string) map[string]string {
			return map[string]string{"Link": link, "Label": label}
		},
	}).Parse(src)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// cleanName drops control and formatting characters (line breaks,
// bidirectional overrides), collapses white space and cuts the result to
// maxNameRunes.
func cleanName(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	if r := []rune(name); len(r) > maxNameRunes {
		name = strings.TrimSpace(string(r[:maxNameRunes]))
	}
	return name
}

// humanDuration writes d in words, rounded to the minute: "30 minutes",
// "1 hour and 30 minutes", "24 hours", "3 days". Days are used from two days
// on, so that a one-day link reads "24 hours".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		d = time.Minute
	}
	var days int64
	if d >= 48*time.Hour {
		days = int64(d / (24 * time.Hour))
		d -= time.Duration(days) * 24 * time.Hour
	}
	hours := int64(d / time.Hour)
	minutes := int64((d % time.Hour) / time.Minute)

	var parts []string
	for _, p := range []struct {
		n    int64
		unit string
	}{{days, "day"}, {hours, "hour"}, {minutes, "minute"}} {
		switch {
		case p.n == 1:
			parts = append(parts, "1 "+p.unit)
		case p.n > 1:
			parts = append(parts, strconv.FormatInt(p.n, 10)+" "+p.unit+"s")
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
