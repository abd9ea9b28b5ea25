// The `navigation_rule` table: a practice's care navigation rules, in the order they are tried.
import type { ConsultationKind, ConsultationPriority, NavigationRule } from '@gpc/contracts';
import type { Queryable } from './queryable';

interface NavigationRuleRow {
  match_kind: ConsultationKind | null;
  match_form_slug: string | null;
  assign_to: string;
  set_priority: ConsultationPriority | null;
}

/** A rule with its absent matches and settings left out, as staff set them. */
const toNavigationRule = (row: NavigationRuleRow): NavigationRule => ({
  ...(row.match_kind ? { matchKind: row.match_kind } : {}),
  ...(row.match_form_slug ? { matchFormSlug: row.match_form_slug } : {}),
  assignTo: row.assign_to,
  ...(row.set_priority ? { setPriority: row.set_priority } : {}),
});

/** The practice's rules, in order. */
export async function listNavigationRules(db: Queryable, practiceId: string): Promise<NavigationRule[]> {
  const { rows } = await db.query<NavigationRuleRow>(
    'SELECT match_kind, match_form_slug, assign_to, set_priority FROM navigation_rule WHERE practice_id = $1 ORDER BY position',
    [practiceId],
  );
  return rows.map(toNavigationRule);
}

/** Replaces the practice's rules with `rules`, in their order; run it in a transaction. */
export async function replaceNavigationRules(
  client: Queryable,
  practiceId: string,
  rules: readonly NavigationRule[],
): Promise<void> {
  await client.query('DELETE FROM navigation_rule WHERE practice_id = $1', [practiceId]);
  for (const [position, rule] of rules.entries()) {
    await client.query(
      'INSERT INTO navigation_rule (practice_id, position, match_kind, match_form_slug, assign_to, set_priority) VALUES ($1, $2, $3, $4, $5, $6)',
      [
        practiceId,
        position,
        rule.matchKind ?? null,
        rule.matchFormSlug ?? null,
        rule.assignTo,
        rule.setPriority ?? null,
      ],
    );
  }
}
