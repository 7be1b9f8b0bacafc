package tfmodule

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Variable is one input variable as written in the module's source.
type Variable struct {
	Name        string
	Description string
	Type        string // source text, "" when untyped
	Default     string // source text, "" when there is none (the variable is required)
	HasDefault  bool
	Sensitive   bool
	Validations []Validation
}

// Validation is one validation block of a variable.
type Validation struct {
	Condition    string // source text
	ErrorMessage string // the message when it is a constant string, else its source text
}

// Output is one output value.
type Output struct {
	Name        string
	Description string
	Sensitive   bool
}

// Pass is an argument of a module call whose value is one of the caller's variables as it is
// (`name = var.variable`).
type Pass struct {
	Module, Argument, Variable string
}

// Module is what a module declares.
type Module struct {
	Variables []Variable
	Outputs   []Output
	Passes    []Pass // sorted by module and argument
}

// Inspect reads the variables and outputs declared in the *.tf files of dir, sorted by name.
func Inspect(dir string) (*Module, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .tf files in %s", dir)
	}
	sort.Strings(files)
	p := hclparse.NewParser()
	m := &Module{}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, diags := p.ParseHCL(src, name)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parse %s: %w", name, diags)
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			return nil, fmt.Errorf("%s: not native HCL syntax", name)
		}
		for _, b := range body.Blocks {
			switch {
			case b.Type == "variable" && len(b.Labels) == 1:
				v, err := readVariable(src, b)
				if err != nil {
					return nil, fmt.Errorf("%s: variable %q: %w", name, b.Labels[0], err)
				}
				m.Variables = append(m.Variables, v)
			case b.Type == "output" && len(b.Labels) == 1:
				o, err := readOutput(b)
				if err != nil {
					return nil, fmt.Errorf("%s: output %q: %w", name, b.Labels[0], err)
				}
				m.Outputs = append(m.Outputs, o)
			case b.Type == "module" && len(b.Labels) == 1:
				m.Passes = append(m.Passes, passes(b)...)
			}
		}
	}
	sort.Slice(m.Variables, func(i, j int) bool { return m.Variables[i].Name < m.Variables[j].Name })
	sort.Slice(m.Outputs, func(i, j int) bool { return m.Outputs[i].Name < m.Outputs[j].Name })
	sort.Slice(m.Passes, func(i, j int) bool {
		a, b := m.Passes[i], m.Passes[j]
		return a.Module < b.Module || a.Module == b.Module && a.Argument < b.Argument
	})
	return m, nil
}

// passes lists the arguments of module call b that are a bare var.<name>.
func passes(b *hclsyntax.Block) []Pass {
	var ps []Pass
	for arg, a := range b.Body.Attributes {
		st, ok := a.Expr.(*hclsyntax.ScopeTraversalExpr)
		if !ok || len(st.Traversal) != 2 || st.Traversal.RootName() != "var" {
			continue
		}
		if attr, ok := st.Traversal[1].(hcl.TraverseAttr); ok {
			ps = append(ps, Pass{Module: b.Labels[0], Argument: arg, Variable: attr.Name})
		}
	}
	return ps
}

func readVariable(src []byte, b *hclsyntax.Block) (Variable, error) {
	v := Variable{Name: b.Labels[0]}
	var err error
	if a, ok := b.Body.Attributes["description"]; ok {
		if v.Description, err = constString(a.Expr); err != nil {
			return v, fmt.Errorf("description: %w", err)
		}
	}
	if a, ok := b.Body.Attributes["type"]; ok {
		v.Type = sourceText(src, a.Expr.Range())
	}
	if a, ok := b.Body.Attributes["default"]; ok {
		v.Default, v.HasDefault = sourceText(src, a.Expr.Range()), true
	}
	if a, ok := b.Body.Attributes["sensitive"]; ok {
		val, diags := a.Expr.Value(nil)
		v.Sensitive = !diags.HasErrors() && val.Type() == cty.Bool && val.True()
	}
	for _, vb := range b.Body.Blocks {
		if vb.Type != "validation" {
			continue
		}
		var val Validation
		if a, ok := vb.Body.Attributes["condition"]; ok {
			val.Condition = sourceText(src, a.Expr.Range())
		}
		if a, ok := vb.Body.Attributes["error_message"]; ok {
			if val.ErrorMessage, err = constString(a.Expr); err != nil {
				val.ErrorMessage = sourceText(src, a.Expr.Range())
			}
		}
		v.Validations = append(v.Validations, val)
	}
	return v, nil
}

func readOutput(b *hclsyntax.Block) (Output, error) {
	o := Output{Name: b.Labels[0]}
	if a, ok := b.Body.Attributes["description"]; ok {
		d, err := constString(a.Expr)
		if err != nil {
			return o, fmt.Errorf("description: %w", err)
		}
		o.Description = d
	}
	if a, ok := b.Body.Attributes["sensitive"]; ok {
		val, diags := a.Expr.Value(nil)
		o.Sensitive = !diags.HasErrors() && val.Type() == cty.Bool && val.True()
	}
	return o, nil
}

// constString evaluates an expression that must be a constant string (quoted or heredoc).
func constString(e hclsyntax.Expression) (string, error) {
	val, diags := e.Value(nil)
	if diags.HasErrors() {
		return "", diags
	}
	if val.Type() != cty.String || val.IsNull() {
		return "", fmt.Errorf("want a constant string")
	}
	return strings.TrimSpace(val.AsString()), nil
}

func sourceText(src []byte, r hcl.Range) string {
	return string(bytes.TrimSpace(src[r.Start.Byte:r.End.Byte]))
}
