-- Where a dead letter came from, when the source knows (e.g. "jira_issues.jsonl line 17").
alter table app.dead_letters add column if not exists origin text;
