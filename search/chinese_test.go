package search_test

import (
	"context"
	"slices"
	"testing"

	"github.com/hearth-community/hearth/search"
)

// TestChineseAndEnglish indexes Simplified Chinese, Traditional Chinese and English
// posts and finds each by words from the middle of its text.
//
// What Meilisearch 1.21 (charabia) does, measured: Simplified text is segmented by
// jieba into words (客户 关系 管理 系统). Traditional text is detected as Chinese only
// with localizedAttributes restricting detection to cmn and eng — unrestricted, short
// queries like 关系 are detected as Japanese and find nothing; restricted, jieba splits
// unknown Traditional words into characters (關 係), and the query is split the same
// way, so 關係 finds it by proximity. charabia folds some variant characters (戶 → 户)
// (and 銷 → 销) but not every Traditional character (關係 ≠ 关系), so for many words each
// script finds only its own text;
// staff bridge important terms with a synonym group, shown at the end.
func TestChineseAndEnglish(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	zhs := e.thread(t, "wang", "questions", "请问客户关系管理系统怎么导出数据", "我们公司正在使用客户关系管理系统来跟踪销售线索。")
	zht := e.thread(t, "li", "questions", "請問客戶關係管理系統怎麼匯出資料", "我們公司正在使用客戶關係管理系統來追蹤銷售線索。")
	en := e.thread(t, "alice", "questions", "Exporting from the customer relationship manager", "We track every relationship and sales lead in it.")
	e.settle(t)
	S, T, E := search.DocID("thread", zhs.ID), search.DocID("thread", zht.ID), search.DocID("thread", en.ID)
	cases := []struct {
		q    string
		want []string
	}{
		{"关系", []string{S}},
		{"销售", []string{S, T}}, // 銷 is folded into 销 too
		{"关系管理", []string{S}},
		{"關係", []string{T}},
		{"銷售", []string{S, T}},
		{"追蹤", []string{T}},
		{"客户", []string{S, T}}, // 戶 and 户 are folded into one
		{"relationship", []string{E}},
		{"sales", []string{E}},
		{"relatinship", []string{E}}, // a typo
	}
	for _, c := range cases {
		got := e.search(t, "", "q="+testenvEscape(c.q)).ids()
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", c.q, got, want)
		}
	}
	// A synonym group makes 关系 find the Traditional text too (and 關係 the Simplified).
	svc := e.App.Search
	if _, err := svc.SaveSynonyms(context.Background(), "admin", e.ids["admin"], 0, []string{"关系", "關係"}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	for _, q := range []string{"关系", "關係"} {
		got := e.search(t, "", "q="+testenvEscape(q)).ids()
		slices.Sort(got)
		want := []string{S, T}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s with the synonym group: %v, want %v", q, got, want)
		}
	}
}
