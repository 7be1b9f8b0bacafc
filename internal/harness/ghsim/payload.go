package ghsim

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// JSON shapes of GitHub resources, field for field as GitHub's REST description and webhook
// examples write them (the contract test checks each against the description).

const webURL = "https://github.com"

func nodeID(prefix string, id int64) string {
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// userJSON is a simple-user: an account as owner, sender or installation account.
func (s *Sim) userJSON(a Account) map[string]any {
	u := s.apiURL() + "/users/" + a.Login
	prefix := "U_kgDO"
	if a.Type == TypeOrganization {
		prefix = "O_kgDO"
	}
	return map[string]any{
		"login": a.Login, "id": a.ID, "node_id": nodeID(prefix, a.ID), "type": a.Type, "site_admin": false,
		"avatar_url":  fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", a.ID),
		"gravatar_id": "", "url": u, "html_url": webURL + "/" + a.Login,
		"followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
		"gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
		"subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs",
		"repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "user_view_type": "public",
	}
}

// orgJSON is organization-simple-webhooks, the "organization" of an event.
func (s *Sim) orgJSON(a Account) map[string]any {
	u := s.apiURL() + "/orgs/" + a.Login
	return map[string]any{
		"login": a.Login, "id": a.ID, "node_id": nodeID("O_kgDO", a.ID), "url": u,
		"repos_url": u + "/repos", "events_url": u + "/events", "hooks_url": u + "/hooks",
		"issues_url": u + "/issues", "members_url": u + "/members{/member}",
		"public_members_url": u + "/public_members{/member}",
		"avatar_url":         fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", a.ID), "description": nil,
	}
}

// repoJSON is repository-webhooks, the "repository" of an event.
func (s *Sim) repoJSON(r *repo) map[string]any {
	u := s.apiURL() + "/repos/" + r.FullName
	html := webURL + "/" + r.FullName
	out := map[string]any{
		"id": r.ID, "node_id": nodeID("R_kgDO", r.ID), "name": r.Name, "full_name": r.FullName,
		"private": r.Private, "owner": s.userJSON(r.Owner), "html_url": html, "description": nil,
		"fork": false, "url": u, "homepage": nil, "language": nil, "mirror_url": nil, "license": nil,
		"size": 0, "forks": 0, "forks_count": 0, "open_issues": 0, "open_issues_count": 0,
		"stargazers_count": 0, "watchers": 0, "watchers_count": 0,
		"has_downloads": true, "has_issues": true, "has_projects": true, "has_wiki": true, "has_pages": false,
		"has_discussions": false, "archived": false, "disabled": false, "visibility": "private",
		"default_branch": "main", "topics": []string{}, "is_template": false, "web_commit_signoff_required": false,
		"allow_forking": true,
		"git_url":       "git://github.com/" + r.FullName + ".git", "ssh_url": "git@github.com:" + r.FullName + ".git",
		"clone_url": html + ".git", "svn_url": html,
		"created_at": r.created.Format(timeFormat), "updated_at": r.created.Format(timeFormat),
		"pushed_at": r.created.Format(timeFormat),
	}
	for _, k := range []string{"forks", "keys{/key_id}", "collaborators{/collaborator}", "teams", "hooks",
		"issues/events{/number}", "events", "assignees{/user}", "branches{/branch}", "tags",
		"git/blobs{/sha}", "git/tags{/sha}", "git/refs{/sha}", "git/trees{/sha}", "statuses/{sha}",
		"languages", "stargazers", "contributors", "subscribers", "subscription", "commits{/sha}",
		"git/commits{/sha}", "comments{/number}", "issues/comments{/number}", "contents/{+path}",
		"compare/{base}...{head}", "merges", "{archive_format}{/ref}", "downloads", "issues{/number}",
		"pulls{/number}", "milestones{/number}", "notifications{?since,all,participating}",
		"labels{/name}", "releases{/id}", "deployments"} {
		out[urlKey(k)] = u + "/" + k
	}
	return out
}

// urlKey names a repository URL field: "git/blobs{/sha}" → "blobs_url",
// "issues/comments{/number}" → "issue_comment_url", as GitHub names them.
func urlKey(path string) string {
	base, _, _ := strings.Cut(path, "{")
	base = strings.TrimSuffix(base, "/")
	switch base {
	case "":
		return "archive_url"
	case "issues/events":
		return "issue_events_url"
	case "issues/comments":
		return "issue_comment_url"
	case "statuses":
		return "statuses_url"
	case "compare":
		return "compare_url"
	case "contents":
		return "contents_url"
	case "git/commits":
		return "git_commits_url"
	case "git/refs":
		return "git_refs_url"
	case "git/tags":
		return "git_tags_url"
	}
	return strings.TrimPrefix(base, "git/") + "_url"
}

const timeFormat = "2006-01-02T15:04:05Z"

// installationJSON is an installation as the Apps API answers it.
func (s *Sim) installationJSON(in *installation) map[string]any {
	sel := "all"
	if in.Repos != nil {
		sel = "selected"
	}
	id := strconv.FormatInt(in.ID, 10)
	html := webURL + "/organizations/" + in.Account.Login + "/settings/installations/" + id
	if in.Account.Type == TypeUser {
		html = webURL + "/settings/installations/" + id
	}
	return map[string]any{
		"id": in.ID, "account": s.userJSON(in.Account), "repository_selection": sel,
		"access_tokens_url": s.apiURL() + "/app/installations/" + id + "/access_tokens",
		"repositories_url":  s.apiURL() + "/installation/repositories", "html_url": html,
		"app_id": in.AppID, "app_slug": s.appSlug(in.AppID), "client_id": "Iv1." + hexOf("client", in.AppID)[:16],
		"target_id": in.Account.ID, "target_type": in.Account.Type, "permissions": appPermissions,
		"events": []string{"workflow_job"}, "created_at": in.created.Format(timeFormat),
		"updated_at": in.created.Format(timeFormat), "single_file_name": nil, "has_multiple_single_files": false,
		"single_file_paths": []string{}, "suspended_by": nil, "suspended_at": nil,
	}
}

// appPermissions are what ghr's App asks for.
var appPermissions = map[string]string{
	"actions": "write", "administration": "write", "metadata": "read", "organization_self_hosted_runners": "write",
}

// hexOf derives a stable fake hash (head_sha, client ids) from a seed.
func hexOf(kind string, id int64) string {
	sum := sha1.Sum([]byte(kind + strconv.FormatInt(id, 10)))
	return hex.EncodeToString(sum[:])
}

// jobJSON is a workflow job as the REST API and the workflow_job event write it.
func (s *Sim) jobJSON(j *job) map[string]any {
	base := s.apiURL() + "/repos/" + j.Repo
	started := j.StartedAt
	if started.IsZero() {
		started = j.QueuedAt // GitHub fills started_at with the creation time until a runner starts
	}
	var conclusion any
	if j.Conclusion != "" {
		conclusion = j.Conclusion
	}
	var runnerID, runnerName, groupID, groupName any
	if j.RunnerID != 0 {
		runnerID, runnerName, groupID, groupName = j.RunnerID, j.RunnerName, j.RunnerGroupID, j.groupName
	}
	return map[string]any{
		"id": j.ID, "run_id": j.RunID, "run_attempt": j.Attempt, "node_id": nodeID("CR_kwDO", j.ID),
		"run_url":       fmt.Sprintf("%s/actions/runs/%d", base, j.RunID),
		"url":           fmt.Sprintf("%s/actions/jobs/%d", base, j.ID),
		"html_url":      fmt.Sprintf("%s/%s/actions/runs/%d/job/%d", webURL, j.Repo, j.RunID, j.ID),
		"check_run_url": fmt.Sprintf("%s/check-runs/%d", base, j.ID),
		"head_sha":      hexOf("run", j.RunID), "head_branch": "main",
		"status": j.Status, "conclusion": conclusion, "name": j.Name, "workflow_name": j.Workflow,
		"created_at": j.QueuedAt.Format(timeFormat), "started_at": started.Format(timeFormat),
		"completed_at": ts(j.CompletedAt), "steps": []any{}, "labels": j.Labels,
		"runner_id": runnerID, "runner_name": runnerName, "runner_group_id": groupID, "runner_group_name": groupName,
	}
}

// runnerJSON is a self-hosted runner as the REST API writes it.
func runnerJSON(r *runner) map[string]any {
	status := "offline"
	if r.online {
		status = "online"
	}
	labels := make([]map[string]any, len(r.labels))
	for i, l := range r.labels {
		labels[i] = map[string]any{"id": l.id, "name": l.name, "type": l.typ}
	}
	os, version := "unknown", any(nil)
	if r.connected {
		os, version = "Linux", DefaultRunnerVersion
	}
	return map[string]any{
		"id": r.id, "name": r.name, "os": os, "status": status, "busy": r.busy, "ephemeral": r.ephemeral,
		"runner_group_id": r.groupID, "labels": labels, "version": version,
	}
}
