"""Parse generated Snowflake SQL with sqlglot, so that a syntax error fails a test.

sqlglot keeps statements it has no grammar for (CREATE PIPE, CREATE TASK, ...) as opaque
commands; for those the parts that are ordinary SQL are parsed on their own: the pipe's COPY
the task's CALL, and every statement of the procedure's transaction.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp


def parse_snowflake(sql: str) -> exp.Expr:
    tree = sqlglot.parse_one(sql, read="snowflake")
    if isinstance(tree, exp.Command):
        text = sql.upper()
        if text.startswith("CREATE PIPE"):
            copy = sql[sql.index("\nAS\n") + 4 :]
            assert isinstance(sqlglot.parse_one(copy, read="snowflake"), exp.Copy)
        elif text.startswith("CREATE OR ALTER TASK"):
            call = sql[sql.index("\nAS\n") + 4 :]
            assert call.startswith("CALL ") and call.endswith("()"), call
        elif text.startswith("CREATE OR REPLACE PROCEDURE"):
            body = sql[sql.index("$$") + 2 : sql.rindex("$$")]
            assert body.strip().startswith("BEGIN") and body.strip().endswith("END;")
            inner = body.split("BEGIN TRANSACTION;", 1)[1].split("COMMIT;", 1)[0]
            statements = [s for s in sqlglot.parse(inner, read="snowflake") if s is not None]
            assert statements
            for statement in statements:
                assert not isinstance(statement, exp.Command), statement.sql()
    return tree
