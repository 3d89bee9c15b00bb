// Typed usage: every field read below is checked against the schema by `tsc`. `endpoint` is
// the API's GraphQL URL, e.g. http://127.0.0.1:8000/graphql.
import { request, type Result } from "./client.js";
import type { ArticlesPageQuery } from "./gql/graphql.js";
import { ArticlesPage, ArticleWithItems, BenefitSnippet } from "./operations.js";

export async function articleOutline(endpoint: string, slug: string): Promise<string[]> {
  const result = await request(endpoint, ArticleWithItems, { slug });
  if (!result.ok) {
    throw new Error(result.errors.map((error) => error.message).join("; "));
  }
  const article = result.data.article; // null when there is no such article you may see
  if (article === null || article === undefined) {
    return [];
  }
  const status: "DRAFT" | "PUBLISHED" | "UNPUBLISHED" | "ARCHIVED" = article.status;
  return [
    `${article.title} (${status}) by ${article.author.name}`,
    ...article.benefits.map((benefit) => `benefit ${benefit.slug}: ${benefit.title}`),
    ...article.precautions.map((precaution) => `precaution ${precaution.title}`),
  ];
}

export async function allSlugs(endpoint: string, tag?: string): Promise<string[]> {
  const slugs: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Result<ArticlesPageQuery> = await request(endpoint, ArticlesPage, { first: 50, after, tag: tag ?? null });
    if (!page.ok) {
      throw new Error(page.errors[0]?.message ?? "request failed");
    }
    const { nodes, pageInfo }: ArticlesPageQuery["articles"] = page.data.articles;
    slugs.push(...nodes.map((node) => node.slug));
    if (!pageInfo.hasNextPage) {
      return slugs;
    }
    after = pageInfo.endCursor ?? null;
  }
}

export async function snippetHtml(
  endpoint: string,
  article: string,
  benefit: string,
): Promise<string | null> {
  const result = await request(endpoint, BenefitSnippet, { article, benefit, locale: "en" });
  return result.ok ? (result.data.benefitSnippet?.html ?? null) : null;
}
