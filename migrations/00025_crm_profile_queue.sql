-- +goose Up
-- Pending crm.profile rows: a refresh takes the oldest along (by id) and answers all of
-- its members' rows at once (crm.Service.HandleProfile), so it finds them by member.
CREATE INDEX outbox_crm_profile_pending ON outbox (id)
    WHERE topic = 'crm.profile' AND processed_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_crm_profile_member ON outbox ((CAST(payload->>'member_id' AS bigint)))
    WHERE topic = 'crm.profile' AND processed_at IS NULL AND parked_at IS NULL;

-- +goose Down
DROP INDEX outbox_crm_profile_member;
DROP INDEX outbox_crm_profile_pending;
