-- +goose Up
-- "Did this answer help?" on solved questions: one rating per member per thread. The
-- asker's ratings are their CSAT on the CRM profile (satisfaction, not loyalty).
CREATE TABLE forum_answer_ratings (
    thread_id   bigint NOT NULL REFERENCES forum_threads (id),
    member_id   bigint NOT NULL REFERENCES users (id),
    post_id     bigint NOT NULL REFERENCES forum_posts (id),
    helpful     boolean NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (thread_id, member_id)
);

-- +goose Down
DROP TABLE forum_answer_ratings;
