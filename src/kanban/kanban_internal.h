/* What the kanban module's files share: the issue an item stands for (title, body, labels,
 * state) as a jansson object, used both to print payloads and to post them. */
#ifndef PG_KANBAN_INTERNAL_H
#define PG_KANBAN_INTERNAL_H

#include <jansson.h>

#include "kanban/kanban.h"

/* The issue body an item stands for (its body, its estimate, its section). malloc'd, NULL when
 * memory runs out. */
char *pgi_kanban_issue_body(const pg_kanban_item *it);

/* {"title", "body", "labels", "state"[, "state_reason"]} for an item; NULL when memory runs
 * out. The caller owns the reference. */
json_t *pgi_kanban_payload(const pg_kanban_item *it);

/* j as JSON text by the project's one rule for numbers (core/json_write.h), without the final
 * newline; malloc'd, NULL when memory runs out. Borrows j. */
char *pgi_kanban_dumps(const json_t *j, size_t flags);

/* Copies s into out (size bytes, always terminated) as a message may show it: every occurrence of
 * secret replaced by "[token hidden]", and so is an end of s that is the first 4 or more
 * characters of secret (a text cut short); control characters become spaces; a multi-byte
 * character cut at the end becomes '?'. secret may be NULL or "" (nothing hidden). */
void pgi_kanban_redact(const char *s, const char *secret, char *out, size_t size);

/* Replaces bytes that are not part of valid UTF-8 (a message cut mid-character) with '?'. */
void pgi_kanban_utf8_fix(char *s);

/* Number of characters (UTF-8 code points) in s. */
size_t pgi_kanban_chars(const char *s);

#endif
