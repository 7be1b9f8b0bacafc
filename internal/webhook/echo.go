package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Echo limits: answers and logs name what they refused, never repeat it whole (a 500 KB
// label once became a 500 KB log line).
const (
	// maxEcho is the most bytes of one input value an answer or log line carries.
	maxEcho = 64
	// maxEchoList is the most values of one list (job labels) an answer carries.
	maxEchoList = 8
)

// brief returns s cut to maxEcho bytes on a rune boundary, saying how long it was.
func brief(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}

// briefList renders a list of inputs as "[a, b, …]", each brief and at most maxEchoList.
func briefList(items []string) string {
	parts := make([]string, 0, min(len(items), maxEchoList)+1)
	for i, s := range items {
		if i == maxEchoList {
			parts = append(parts, fmt.Sprintf("…(%d in all)", len(items)))
			break
		}
		parts = append(parts, brief(s))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// jsonError describes a decoding failure by position and field, never by the Go types
// encoding/json names in its messages.
func jsonError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("malformed JSON: field %s has the wrong type (%s)", brief(typ.Field), brief(typ.Value))
	case errors.As(err, &typ):
		return fmt.Sprintf("malformed JSON: the payload is a JSON %s, not an object", brief(typ.Value))
	default:
		return "malformed JSON"
	}
}

// Content types GitHub can be configured to send.
const (
	contentJSON = "application/json"
	contentForm = "application/x-www-form-urlencoded"
)

// payload returns the JSON document of a verified body: the body itself, or the payload=
// field of a form-encoded one. An absent content type is taken as JSON, which is what
// GitHub's API and redeliveries default to.
func payload(contentType string, body []byte) ([]byte, int, error) {
	mt := contentJSON
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, http.StatusUnsupportedMediaType, errors.New("content type not understood; use application/json")
		}
	}
	switch mt {
	case contentJSON:
		return body, 0, nil
	case contentForm:
		form, err := url.ParseQuery(string(body))
		if err != nil || len(form["payload"]) != 1 {
			return nil, http.StatusBadRequest, errors.New("form body without exactly one payload field")
		}
		return []byte(form.Get("payload")), 0, nil
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %s not supported; use application/json", brief(mt))
	}
}
