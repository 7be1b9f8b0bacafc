// Package oapi validates JSON documents against the subset of OpenAPI 3.0 schemas that
// GitHub's REST description uses for the simulator's operations: type, nullable, required,
// properties, additionalProperties, items, enum, oneOf, anyOf, allOf, $ref, minItems,
// maxItems and the date-time and uri formats. The schemas come from
// internal/harness/ghsim/testdata/openapi.json, extracted by scripts/fetch-openapi.sh.
//
// No external JSON-schema library: OpenAPI 3.0's nullable and its $ref layout are not JSON
// Schema, and the subset needed is a page of code.
package oapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Schema is one OpenAPI schema object.
type Schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Nullable             bool               `json:"nullable"`
	Format               string             `json:"format"`
	Required             []string           `json:"required"`
	Properties           map[string]*Schema `json:"properties"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	Items                *Schema            `json:"items"`
	Enum                 []any              `json:"enum"`
	OneOf                []*Schema          `json:"oneOf"`
	AnyOf                []*Schema          `json:"anyOf"`
	AllOf                []*Schema          `json:"allOf"`
	MinItems             *int               `json:"minItems"`
	MaxItems             *int               `json:"maxItems"`
}

// Operation holds the request and response schemas of one "METHOD /path" operation; a nil
// response schema means the answer has no JSON body (204, 302).
type Operation struct {
	Request   *Schema            `json:"request"`
	Responses map[string]*Schema `json:"responses"`
}

// Doc is the extracted description.
type Doc struct {
	Source     string                `json:"source"`
	Operations map[string]*Operation `json:"operations"`
	Webhooks   map[string]*Schema    `json:"webhooks"`
	Schemas    map[string]*Schema    `json:"schemas"`
}

// Parse decodes an extracted description.
func Parse(b []byte) (*Doc, error) {
	var d Doc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("openapi extract: %w", err)
	}
	return &d, nil
}

// Options tune validation.
type Options struct {
	// Strict reports object properties the schema does not declare (where it does not allow
	// additional ones): GitHub's schemas never forbid them, but in the simulator an
	// undeclared property is almost always a misspelt field name.
	Strict bool
}

// Validate checks the JSON document b against s and returns every violation found, each
// prefixed with its JSON path ("$.runners[0].labels[1].type").
func (d *Doc) Validate(b []byte, s *Schema, opts Options) []string {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []string{"$: not JSON: " + err.Error()}
	}
	c := &checker{doc: d, opts: opts}
	c.check(v, s, "$", true)
	sort.Strings(c.errs)
	return c.errs
}

type checker struct {
	doc  *Doc
	opts Options
	errs []string
}

func (c *checker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
}

func (c *checker) resolve(s *Schema) *Schema {
	for s != nil && s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		next := c.doc.Schemas[name]
		if !ok || next == nil {
			c.fail("schema", "unresolved $ref %s", s.Ref)
			return nil
		}
		s = next
	}
	return s
}

// check validates v; strict says whether undeclared properties are reported at this level
// (not inside allOf/oneOf/anyOf branches, whose declared properties are merged above them).
func (c *checker) check(v any, s *Schema, path string, strict bool) {
	s = c.resolve(s)
	if s == nil {
		return
	}
	if v == nil {
		switch {
		case s.Nullable || slices.Contains(s.Enum, nil):
			return
		case len(s.AnyOf)+len(s.OneOf) > 0:
			c.checkBranches(v, s, path) // a branch may be nullable
			return
		case s.Type == "" && len(s.AllOf) == 0:
			return
		}
		c.fail(path, "null where %s is required", s.Type)
		return
	}
	if s.Type != "" && !typeMatches(v, s.Type) {
		c.fail(path, "got %s, want %s", typeName(v), s.Type)
		return
	}
	if len(s.Enum) > 0 && !enumHas(s.Enum, v) {
		c.fail(path, "%v is not one of %v", v, s.Enum)
	}
	c.checkFormat(v, s.Format, path)
	for _, sub := range s.AllOf {
		c.check(v, sub, path, false)
	}
	c.checkBranches(v, s, path)
	switch x := v.(type) {
	case map[string]any:
		for _, r := range s.Required {
			if _, ok := x[r]; !ok {
				c.fail(path, "required property %q missing", r)
			}
		}
		for k, pv := range x {
			if ps := s.Properties[k]; ps != nil {
				c.check(pv, ps, path+"."+k, true)
			} else if ap := c.additional(s); ap != nil {
				c.check(pv, ap, path+"."+k, true)
			}
		}
		if strict && c.opts.Strict {
			c.checkDeclared(x, s, path)
		}
	case []any:
		if s.MinItems != nil && len(x) < *s.MinItems {
			c.fail(path, "%d items, want at least %d", len(x), *s.MinItems)
		}
		if s.MaxItems != nil && len(x) > *s.MaxItems {
			c.fail(path, "%d items, want at most %d", len(x), *s.MaxItems)
		}
		if s.Items != nil {
			for i, it := range x {
				c.check(it, s.Items, path+"["+strconv.Itoa(i)+"]", true)
			}
		}
	}
}

func (c *checker) checkBranches(v any, s *Schema, path string) {
	if len(s.OneOf) > 0 {
		if n := c.matching(v, s.OneOf, path); n != 1 {
			c.fail(path, "matches %d of oneOf's %d schemas, want exactly 1", n, len(s.OneOf))
		}
	}
	if len(s.AnyOf) > 0 {
		if n := c.matching(v, s.AnyOf, path); n == 0 {
			c.fail(path, "matches none of anyOf's %d schemas", len(s.AnyOf))
		}
	}
}

// matching counts the branches v satisfies, validating each with a scratch checker.
func (c *checker) matching(v any, branches []*Schema, path string) int {
	n := 0
	for _, b := range branches {
		sub := &checker{doc: c.doc, opts: c.opts}
		sub.check(v, b, path, false)
		if len(sub.errs) == 0 {
			n++
		}
	}
	return n
}

// additional returns the schema for undeclared properties, or nil when it is absent, true or
// false (false is reported by the strict check).
func (c *checker) additional(s *Schema) *Schema {
	if len(s.AdditionalProperties) == 0 || s.AdditionalProperties[0] != '{' {
		return nil
	}
	var ap Schema
	if err := json.Unmarshal(s.AdditionalProperties, &ap); err != nil {
		return nil
	}
	return &ap
}

func (c *checker) checkDeclared(x map[string]any, s *Schema, path string) {
	declared, open := c.declared(s, map[*Schema]bool{})
	if open {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(x)) {
		if !declared[k] {
			c.fail(path, "property %q is not declared by the schema", k)
		}
	}
}

// declared collects the properties s and its composition branches declare; open reports a
// schema that allows any property (no properties at all, or additionalProperties).
func (c *checker) declared(s *Schema, seen map[*Schema]bool) (map[string]bool, bool) {
	s = c.resolve(s)
	out := map[string]bool{}
	if s == nil || seen[s] {
		return out, false
	}
	seen[s] = true
	ap := strings.TrimSpace(string(s.AdditionalProperties))
	if ap != "" && ap != "false" {
		return out, true
	}
	for k := range s.Properties {
		out[k] = true
	}
	branches := slices.Concat(s.AllOf, s.OneOf, s.AnyOf)
	if len(s.Properties) == 0 && len(branches) == 0 {
		return out, true
	}
	for _, b := range branches {
		sub, open := c.declared(b, seen)
		if open {
			return out, true
		}
		maps.Copy(out, sub)
	}
	return out, false
}

func (c *checker) checkFormat(v any, format, path string) {
	str, ok := v.(string)
	if !ok {
		return
	}
	switch format {
	case "date-time":
		if _, err := time.Parse(time.RFC3339, str); err != nil {
			c.fail(path, "%q is not an RFC 3339 date-time", str)
		}
	case "uri":
		if u, err := url.Parse(str); err != nil || u.Scheme == "" {
			c.fail(path, "%q is not an absolute URI", str)
		}
	}
}

func typeMatches(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := strconv.ParseInt(n.String(), 10, 64)
		return err == nil
	case "null":
		return v == nil
	}
	return false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func enumHas(enum []any, v any) bool {
	for _, e := range enum {
		switch ev := e.(type) {
		case nil:
			if v == nil {
				return true
			}
		case float64:
			if n, ok := v.(json.Number); ok {
				if f, err := n.Float64(); err == nil && f == ev {
					return true
				}
			}
		default:
			if e == v {
				return true
			}
		}
	}
	return false
}
