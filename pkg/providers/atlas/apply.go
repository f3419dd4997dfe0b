package atlas

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

func (p *Provider) applyProject(ctx context.Context, c plan.Change) error {
	a := p.atlas()
	tags := *p.mergedTags(nil)
	switch c.Action {
	case plan.Create:
		err := p.createChecked(ctx, c.Address,
			func() error {
				g, _, err := p.client.ProjectsApi.CreateGroup(ctx, &admin.Group{Name: a.Project, OrgId: a.OrgID, Tags: &tags}).Execute()
				if err == nil {
					p.setProject(g.GetId())
				}
				return err
			},
			func(err error) bool { return admin.IsErrorCode(err, "GROUP_ALREADY_EXISTS") || answerLost(err) },
			func() (bool, error) {
				g, _, err := p.client.ProjectsApi.GetGroupByName(ctx, a.Project).Execute()
				if isStatus(err, http.StatusNotFound) {
					return false, nil
				}
				if err != nil {
					return false, err
				}
				p.setProject(g.GetId())
				return true, nil
			})
		if err != nil {
			return fmt.Errorf("creating project: %w", err)
		}
		return nil
	case plan.Update, plan.Adopt:
		// Adopting a project marks it with the stack's tags: its only owned fields.
		return p.retagProject(ctx, p.mergedTags)
	case plan.Keep:
		return p.retagProject(ctx, p.releasedTags)
	}
	return fmt.Errorf("a project cannot move to another organization; create the stack in a new project instead")
}

// retagProject reads the project's tags and writes back tags(live).
func (p *Provider) retagProject(ctx context.Context, tags func([]admin.ResourceTag) *[]admin.ResourceTag) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	g, _, err := p.client.ProjectsApi.GetGroup(ctx, gid).Execute()
	if err != nil {
		return fmt.Errorf("reading project: %w", err)
	}
	if _, _, err := p.client.ProjectsApi.UpdateGroup(ctx, gid, &admin.GroupUpdate{Tags: tags(g.GetTags())}).Execute(); err != nil {
		return fmt.Errorf("updating project tags: %w", err)
	}
	return nil
}

// releasedTags are a kept project's tags: the ownership tags give way to
// TagReleased, which tells the next `up` of this stack to take it back
// while nothing else mistakes it for owned.
func (p *Provider) releasedTags(live []admin.ResourceTag) *[]admin.ResourceTag {
	out := []admin.ResourceTag{}
	for _, t := range live {
		if t.Key != TagManagedBy && t.Key != TagStack && t.Key != TagReleased {
			out = append(out, t)
		}
	}
	out = append(out, admin.ResourceTag{Key: TagReleased, Value: p.st.Metadata.Name})
	return &out
}

func (p *Provider) deleteProject(ctx context.Context, c plan.Change) error {
	id := c.ID
	if id == "" {
		id = p.project()
	}
	_, err := p.client.ProjectsApi.DeleteGroup(ctx, id).Execute()
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("deleting project: %w", err)
	}
	p.setProject("")
	return nil
}

// applySchedule reads the schedule and sends back its one policy with the
// hourly retention raised to cover the restore window, and the window.
func (p *Provider) applySchedule(ctx context.Context, c plan.Change) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	name := c.Address.Name
	s, _, err := p.client.CloudBackupsApi.GetBackupSchedule(ctx, gid, name).Execute()
	if err != nil {
		return fmt.Errorf("reading backup schedule: %w", err)
	}
	window, hourly := num(c.After["restoreWindowDays"]), num(c.After["hourlyRetentionDays"])
	if len(s.GetPolicies()) == 0 {
		return fmt.Errorf("the backup schedule has no policy to update")
	}
	pol := s.GetPolicies()[0]
	items := append([]admin.DiskBackupApiPolicyItem(nil), pol.GetPolicyItems()...)
	found := false
	for i := range items {
		if items[i].FrequencyType != "hourly" {
			continue
		}
		found = true
		if retentionDays(items[i].RetentionUnit, items[i].RetentionValue) < hourly {
			items[i].RetentionUnit, items[i].RetentionValue = "days", hourly
		}
	}
	if !found {
		items = append([]admin.DiskBackupApiPolicyItem{{FrequencyType: "hourly", FrequencyInterval: 6,
			RetentionUnit: "days", RetentionValue: hourly}}, items...)
	}
	update := &admin.DiskBackupSnapshotSchedule20240805{
		Policies:          []admin.AdvancedDiskBackupSnapshotSchedulePolicy{{Id: pol.Id, PolicyItems: items}},
		RestoreWindowDays: admin.PtrInt(window),
	}
	if _, _, err := p.client.CloudBackupsApi.UpdateBackupSchedule(ctx, gid, name, update).Execute(); err != nil {
		return fmt.Errorf("updating backup schedule: %w", err)
	}
	return nil
}

// applyUser creates or updates the user. When it sets a password it
// publishes the password and the connection string for the Secrets.
func (p *Provider) applyUser(ctx context.Context, c plan.Change, out provider.Outputs) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	a := p.atlas()
	u := &admin.CloudDatabaseUser{GroupId: gid, DatabaseName: "admin", Username: c.Address.Name,
		Roles:  []admin.DatabaseUserRole{{RoleName: "readWrite", DatabaseName: a.Database}},
		Scopes: &[]admin.UserScope{{Name: a.Cluster.Name, Type: "CLUSTER"}},
		Labels: &[]admin.ComponentLabel{{Key: admin.PtrString(TagStack), Value: admin.PtrString(p.st.Metadata.Name)}},
	}
	pw, hasPW := c.After["password"].(plan.Sensitive)
	if hasPW {
		u.Password = admin.PtrString(pw.Reveal())
	}
	create := c.Action == plan.Create
	if create {
		// A user that exists already (made by a create whose answer was lost,
		// or by hand since the plan) is updated instead: the password and
		// roles are then the ones planned.
		err := p.createChecked(ctx, c.Address,
			func() error {
				_, _, err := p.client.DatabaseUsersApi.CreateDatabaseUser(ctx, gid, u).Execute()
				return err
			},
			func(err error) bool { return admin.IsErrorCode(err, "USER_ALREADY_EXISTS") || answerLost(err) },
			func() (bool, error) {
				_, _, err := p.client.DatabaseUsersApi.GetDatabaseUser(ctx, gid, "admin", c.Address.Name).Execute()
				if isStatus(err, http.StatusNotFound) {
					return false, nil
				}
				create = false
				return err == nil, err
			})
		if err != nil {
			return fmt.Errorf("creating database user: %w", err)
		}
	}
	if !create {
		if _, _, err := p.client.DatabaseUsersApi.UpdateDatabaseUser(ctx, gid, "admin", c.Address.Name, u).Execute(); err != nil {
			return fmt.Errorf("updating database user: %w", err)
		}
	}
	if !hasPW {
		return nil
	}
	out.Set(provider.OutDBPassword, pw)
	srv := p.liveSRV()
	if srv == "" {
		cl, err := p.getCluster(ctx, gid, a.Cluster.Name)
		if err != nil {
			return fmt.Errorf("reading the cluster's connection string: %w", err)
		}
		if cl != nil && cl.ConnectionStrings != nil {
			srv = cl.ConnectionStrings.GetStandardSrv()
			p.setLive(cl)
		}
	}
	if srv == "" {
		return fmt.Errorf("the cluster has no SRV connection string yet; run again once it is IDLE")
	}
	out.Set(provider.OutMongoURI, plan.NewSensitive(mongoURI(srv, c.Address.Name, pw.Reveal(), a.Database)))
	return nil
}

func (p *Provider) deleteUser(ctx context.Context, c plan.Change) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	db, name := "admin", c.Address.Name
	if d, n, ok := strings.Cut(c.ID, "/"); ok {
		db, name = d, n
	}
	_, err = p.client.DatabaseUsersApi.DeleteDatabaseUser(ctx, gid, db, name).Execute()
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("deleting database user: %w", err)
	}
	return nil
}

// applyAccess adds or updates (same CIDR, new comment) one entry.
func (p *Provider) applyAccess(ctx context.Context, c plan.Change) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	comment := fmt.Sprint(c.After["comment"])
	entries := []admin.NetworkPermissionEntry{{CidrBlock: admin.PtrString(c.Address.Name), Comment: admin.PtrString(comment)}}
	err = p.createChecked(ctx, c.Address,
		func() error {
			_, _, err := p.client.ProjectIPAccessListApi.CreateAccessListEntry(ctx, gid, &entries).Execute()
			return err
		}, nil,
		func() (bool, error) {
			e, _, err := p.client.ProjectIPAccessListApi.GetAccessListEntry(ctx, gid, c.Address.Name).Execute()
			if isStatus(err, http.StatusNotFound) {
				return false, nil
			}
			return err == nil && e.GetComment() == comment, err
		})
	if err != nil {
		return fmt.Errorf("adding access list entry: %w", err)
	}
	return nil
}

func (p *Provider) deleteAccess(ctx context.Context, c plan.Change) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	// The SDK escapes the "/" of the CIDR in the path itself.
	_, err = p.client.ProjectIPAccessListApi.DeleteAccessListEntry(ctx, gid, c.Address.Name).Execute()
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("deleting access list entry: %w", err)
	}
	return nil
}
