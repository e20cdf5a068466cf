package routes

import (
	"errors"
	"fmt"
)

// ErrExpression is matched (with errors.Is) by every error ParsePath
// returns.
var ErrExpression = errors.New("routes: invalid expression")

// exprError says which expression is wrong and how to fix it.
type exprError struct {
	expr   string
	reason string
}

func (e *exprError) Error() string { return fmt.Sprintf("expression %q %s", e.expr, e.reason) }

func (e *exprError) Is(target error) bool { return target == ErrExpression }
