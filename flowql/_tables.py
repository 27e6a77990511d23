"""FlowQL parser tables, generated from grammar/flowql.lark. Do not edit.

Regenerate with ``python -m flowql._generate``; a test fails when this file is stale.
"""

# ruff: noqa: E501

# (name, regular expression) in the order the lexer tries them.
TERMINALS: tuple[tuple[str, str], ...] = (
    ('_FALSE', '[fF][aA][lL][sS][eE](?![A-Za-z0-9_.-])'),
    ('_TRUE', '[tT][rR][uU][eE](?![A-Za-z0-9_.-])'),
    ('_AND', '[aA][nN][dD](?![A-Za-z0-9_.-])'),
    ('_NOT', '[nN][oO][tT](?![A-Za-z0-9_.-])'),
    ('_IN', '[iI][nN](?![A-Za-z0-9_.-])'),
    ('_OR', '[oO][rR](?![A-Za-z0-9_.-])'),
    ('STRING', '(?:\'[^\'\\\\]*(?:\\\\[\\s\\S][^\'\\\\]*)*\'|"[^"\\\\]*(?:\\\\[\\s\\S][^"\\\\]*)*")'),
    ('NUMBER', '-?[0-9]+(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![A-Za-z0-9_.])'),
    ('KEY', '[A-Za-z_][A-Za-z0-9_-]*(?:\\.[A-Za-z_][A-Za-z0-9_-]*)*'),
    ('WHITESPACE', '[ \t\r\n\x0c\\v]+'),
    ('COMMENT', '#[^\n]*'),
    ('COMPARE', '(?:==|!=|\\~\\~|!\\~)'),
    ('_COMMA', ','),
    ('_LPAR', '\\('),
    ('_RPAR', '\\)'),
)
IGNORE: frozenset[str] = frozenset(['COMMENT', 'WHITESPACE'])

# Per rule: (result symbol, length, kept children as (index, is an inlined
# rule), tree name or None, expand a single child, inline into the parent).
RULES: tuple[tuple[str, int, tuple[tuple[int, bool], ...], str | None, bool, bool], ...] = (
    ('start', 1, ((0, False),), 'start', False, False),
    ('or_expr', 2, ((0, False), (1, True)), 'or_expr', True, False),
    ('or_expr', 1, ((0, False),), 'or_expr', True, False),
    ('and_expr', 2, ((0, False), (1, True)), 'and_expr', True, False),
    ('and_expr', 1, ((0, False),), 'and_expr', True, False),
    ('not_expr', 2, ((1, False),), 'negation', False, False),
    ('not_expr', 1, ((0, False),), 'not_expr', True, False),
    ('atom', 1, ((0, False),), 'atom', True, False),
    ('atom', 1, ((0, False),), 'atom', True, False),
    ('atom', 3, ((1, False),), 'atom', True, False),
    ('comparison', 3, ((0, False), (1, False), (2, False)), 'comparison', False, False),
    ('membership', 5, ((0, False), (3, True)), 'membership', False, False),
    ('membership', 6, ((0, False), (4, True)), 'negated_membership', False, False),
    ('_values', 2, ((0, False), (1, True)), None, False, True),
    ('_values', 1, ((0, False),), None, False, True),
    ('key', 1, ((0, False),), 'key', False, False),
    ('value', 1, ((0, False),), 'string', False, False),
    ('value', 1, ((0, False),), 'number', False, False),
    ('value', 1, (), 'true', False, False),
    ('value', 1, (), 'false', False, False),
    ('__or_expr_star_0', 2, ((1, False),), None, False, True),
    ('__or_expr_star_0', 3, ((0, True), (2, False)), None, False, True),
    ('__and_expr_star_1', 2, ((1, False),), None, False, True),
    ('__and_expr_star_1', 3, ((0, True), (2, False)), None, False, True),
    ('___values_star_2', 2, ((1, False),), None, False, True),
    ('___values_star_2', 3, ((0, True), (2, False)), None, False, True),
)

# Per state: symbol -> action; n >= 0 shifts (or goes) to state n, n < 0 reduces
# by rule -n - 1.
STATES: tuple[dict[str, int], ...] = (
    {'KEY': 1, '_LPAR': 2, '_NOT': 3, 'and_expr': 4, 'atom': 5, 'comparison': 6, 'key': 7, 'membership': 8, 'not_expr': 9, 'or_expr': 10, 'start': 11},
    {'COMPARE': -16, '_IN': -16, '_NOT': -16},
    {'KEY': 1, '_LPAR': 2, '_NOT': 3, 'and_expr': 4, 'atom': 5, 'comparison': 6, 'key': 7, 'membership': 8, 'not_expr': 9, 'or_expr': 12},
    {'KEY': 1, '_LPAR': 2, '_NOT': 3, 'atom': 5, 'comparison': 6, 'key': 7, 'membership': 8, 'not_expr': 13},
    {'$END': -3, '_OR': 14, '_RPAR': -3, '__or_expr_star_0': 15},
    {'$END': -7, '_AND': -7, '_OR': -7, '_RPAR': -7},
    {'$END': -8, '_AND': -8, '_OR': -8, '_RPAR': -8},
    {'COMPARE': 16, '_IN': 17, '_NOT': 18},
    {'$END': -9, '_AND': -9, '_OR': -9, '_RPAR': -9},
    {'$END': -5, '_AND': 19, '_OR': -5, '_RPAR': -5, '__and_expr_star_1': 20},
    {'$END': -1},
    {},
    {'_RPAR': 21},
    {'$END': -6, '_AND': -6, '_OR': -6, '_RPAR': -6},
    {'KEY': 1, '_LPAR': 2, '_NOT': 3, 'and_expr': 22, 'atom': 5, 'comparison': 6, 'key': 7, 'membership': 8, 'not_expr': 9},
    {'$END': -2, '_OR': 23, '_RPAR': -2},
    {'NUMBER': 24, 'STRING': 25, '_FALSE': 26, '_TRUE': 27, 'value': 28},
    {'_LPAR': 29},
    {'_IN': 30},
    {'KEY': 1, '_LPAR': 2, '_NOT': 3, 'atom': 5, 'comparison': 6, 'key': 7, 'membership': 8, 'not_expr': 31},
    {'$END': -4, '_AND': 32, '_OR': -4, '_RPAR': -4},
    {'$END': -10, '_AND': -10, '_OR': -10, '_RPAR': -10},
    {'$END': -21, '_OR': -21, '_RPAR': -21},
    {'KEY': 1, '_LPAR': 2, '_NOT': 3, 'and_expr': 33, 'atom': 5, 'comparison': 6, 'key': 7, 'membership': 8, 'not_expr': 9},
    {'$END': -18, '_AND': -18, '_COMMA': -18, '_OR': -18, '_RPAR': -18},
    {'$END': -17, '_AND': -17, '_COMMA': -17, '_OR': -17, '_RPAR': -17},
    {'$END': -20, '_AND': -20, '_COMMA': -20, '_OR': -20, '_RPAR': -20},
    {'$END': -19, '_AND': -19, '_COMMA': -19, '_OR': -19, '_RPAR': -19},
    {'$END': -11, '_AND': -11, '_OR': -11, '_RPAR': -11},
    {'NUMBER': 24, 'STRING': 25, '_FALSE': 26, '_TRUE': 27, '_values': 34, 'value': 35},
    {'_LPAR': 36},
    {'$END': -23, '_AND': -23, '_OR': -23, '_RPAR': -23},
    {'KEY': 1, '_LPAR': 2, '_NOT': 3, 'atom': 5, 'comparison': 6, 'key': 7, 'membership': 8, 'not_expr': 37},
    {'$END': -22, '_OR': -22, '_RPAR': -22},
    {'_RPAR': 38},
    {'_COMMA': 39, '_RPAR': -15, '___values_star_2': 40},
    {'NUMBER': 24, 'STRING': 25, '_FALSE': 26, '_TRUE': 27, '_values': 41, 'value': 35},
    {'$END': -24, '_AND': -24, '_OR': -24, '_RPAR': -24},
    {'$END': -12, '_AND': -12, '_OR': -12, '_RPAR': -12},
    {'NUMBER': 24, 'STRING': 25, '_FALSE': 26, '_TRUE': 27, 'value': 42},
    {'_COMMA': 43, '_RPAR': -14},
    {'_RPAR': 44},
    {'_COMMA': -25, '_RPAR': -25},
    {'NUMBER': 24, 'STRING': 25, '_FALSE': 26, '_TRUE': 27, 'value': 45},
    {'$END': -13, '_AND': -13, '_OR': -13, '_RPAR': -13},
    {'_COMMA': -26, '_RPAR': -26},
)
START_STATE = 0
END_STATE = 11
