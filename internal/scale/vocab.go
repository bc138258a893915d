package scale

import (
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/hearth-community/hearth/forum"
)

// The vocabulary the generator draws from. Rows pick entries by hashing their index,
// so a run is deterministic and the text looks like a brand community's: English and
// Chinese names, product questions, Markdown with characters that need escaping.

var firstNames = []string{
	"Alice", "Bob", "Carmen", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
	"Kiri", "Liam", "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sam", "Tara",
	"Uma", "Victor", "Wendy", "Xavier", "Yara", "Zoe", "Amir", "Bianca", "Chloé", "Dmitri",
	"Emma", "Felix", "Greta", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Marco", "Nina",
}

var lastNames = []string{
	"Smith", "Chen", "García", "Müller", "Okafor", "Rossi", "Tanaka", "Novak", "Dubois", "Silva",
	"Kowalski", "Johansson", "O'Brien", "Haddad", "Nguyen", "Petrov", "Jensen", "Costa", "Wright", "Kim",
	"Moreau", "Fischer", "Lopez", "Brown", "Singh", "Ivanova", "Park", "Santos", "Weber", "Murphy",
}

var zhSurnames = []string{
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
	"徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高",
	"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
}

var zhGiven = []string{
	"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军",
	"小明", "晓燕", "志强", "秀英", "建华", "丽娟", "海涛", "雪梅", "子涵", "浩然",
	"欣怡", "宇轩", "思远", "佳怡", "俊杰", "梦琪", "一鸣", "若曦", "天佑", "嘉欣",
}

var products = []string{
	"X200 headphones", "X300 earbuds", "S1 speaker", "Aria soundbar", "HomeHub", "companion app",
	"charging case", "Nova turntable", "K2 keyboard", "M5 mouse", "Pulse watch", "travel adapter",
}

var actions = []string{
	"pair the %s with two phones", "reset the %s to factory settings", "update the firmware of the %s",
	"fix crackling audio on the %s", "get more battery life out of the %s", "connect the %s to a Windows laptop",
	"clean the %s safely", "get a replacement for a broken %s", "use the %s with hearing aids",
	"change the language of the %s", "stop the %s disconnecting every few minutes", "use the %s on a long flight",
}

var titleTemplates = []string{
	"How do I %s?", "Is it possible to %s?", "Best way to %s", "Idea: make it easier to %s",
	"Tips to %s (what worked for me)", "Guide: how to %s", "Why can't I %s?", "Can anyone help me %s?",
	"Wish list: %s", "New: an easier way to %s",
}

var zhProducts = []string{
	"X200 耳机", "X300 耳塞", "S1 音箱", "Aria 回音壁", "HomeHub 智能中枢", "配套 App",
	"充电盒", "Nova 唱片机", "K2 键盘", "M5 鼠标", "Pulse 手表", "旅行转换插头",
}

var zhActions = []string{
	"连接两部手机", "恢复出厂设置", "升级固件", "解决杂音问题", "延长电池续航", "连接 Windows 笔记本",
	"安全清洁", "申请换货", "配合助听器使用", "切换语言", "避免频繁断开连接", "在长途飞行中使用",
}

// Chinese templates start with a Chinese character: the SQL tells a thread's language
// from the first character of its title.
var zhTitleTemplates = []string{
	"请问%s怎么%s？", "求助：%s无法%s", "建议：希望%s可以更方便地%s", "分享：%s%s的经验",
	"关于%s：如何%s", "新功能：%s现在可以轻松%s",
}

var sentences = []string{
	"I have had mine for about **six months** and this only started last week.",
	"Holding the power button for `7 seconds` resets the pairing list.",
	"Battery life went from 30 hours to < 10 after the update & I'm not sure why.",
	"Has anyone else seen this? I'd love to hear what worked for you.",
	"Thanks, that fixed it for me!",
	"Make sure the **companion app** is on the latest version before you try anything else.",
	"Support told me to send it in, but I'd rather not wait two weeks.",
	"It works fine on my phone but not on my laptop.",
	"The manual (page 12) explains it, though the pictures are tiny.",
	"I tried turning Bluetooth off and on again, no luck.",
	"Same here: it happens every time the room is busy with other devices.",
	"Try the *\"Reset network settings\"* option, it solved a similar issue for me.",
	"+1, I would use this every day.",
	"Good point. The `2.1` firmware changed how this works.",
	"Our team is looking into it and will post an update here.",
	"It might be interference from the Wi-Fi router; moving it a metre away helped.",
	"I'd pay extra for a version with a <3-second> pairing mode.",
	"Could you share which phone model & OS version you use?",
	"Mine came with a small scratch, but the replacement arrived in 3 days.",
	"The sound is great, especially the bass on the **Deep** preset.",
	"Please add this to the roadmap!",
	"After a factory reset everything worked again.",
	"I use it on the train every morning and it's been solid.",
	"Quick tip: clean the contacts with a dry cloth, not alcohol.",
	"Does the warranty cover this kind of damage?",
	"Accepted answer above is correct, just confirmed it on mine.",
	"This is a known issue; a fix is planned for the next release.",
	"Any news on this? Still seeing it with the latest update.",
	"I wrote a short guide: charge to 100%, reset, then pair again.",
	"Welcome to the community! Glad you found an answer.",
}

var zhSentences = []string{
	"我用了大概**半年**，上周才开始出现这个问题。",
	"长按电源键 `7 秒` 可以清除配对记录。",
	"更新之后电池续航从 30 小时降到了 < 10 小时，不知道为什么。",
	"有人遇到过吗？想听听大家的解决办法。",
	"谢谢，问题解决了！",
	"先确认**配套 App** 已经更新到最新版本。",
	"客服让我寄回去维修，但我不想等两个星期。",
	"在手机上正常，但在笔记本上不行。",
	"说明书第 12 页有讲，不过图片太小了。",
	"我试过关闭再打开蓝牙，没有用。",
	"同样的情况，周围设备多的时候就会出现。",
	"试试 *“重置网络设置”*，我遇到类似问题时就是这样解决的。",
	"+1，我每天都会用到这个功能。",
	"说得对，`2.1` 版本的固件改了这个逻辑。",
	"我们的团队正在调查，会在这里更新进展。",
	"可能是路由器干扰，挪开一米之后好多了。",
	"恢复出厂设置之后一切正常。",
	"每天早上坐地铁都在用，很稳定。",
	"小技巧：用干布清洁触点，不要用酒精。",
	"保修包括这种损坏吗？",
	"这是已知问题，下个版本会修复。",
	"有进展吗？最新版本还是有这个问题。",
	"欢迎来到社区！很高兴你找到了答案。",
	"音质很好，尤其是**低音**模式。",
}

// tags are valid forum tags (lower-case letters, digits and hyphens).
var tags = []string{
	"x200", "x300", "s1", "aria", "homehub", "app", "bluetooth", "battery", "firmware", "windows",
	"ios", "android", "audio", "setup", "idea", "offer", "warranty", "电池", "固件", "蓝牙",
}

// vocab is the vocabulary in the shape the SQL wants: parallel arrays.
type vocab struct {
	enTitles, enSlugs, zhTitles, zhSlugs []string
	bodyMD, bodyHTML                     []string // English sentences first, then Chinese
	enSentences                          int
}

func newVocab() *vocab {
	v := &vocab{}
	for _, tpl := range titleTemplates {
		for _, act := range actions {
			for _, p := range products {
				title := fmt.Sprintf(tpl, fmt.Sprintf(act, p))
				v.enTitles = append(v.enTitles, title)
				v.enSlugs = append(v.enSlugs, forum.Slug(title))
			}
		}
	}
	for _, tpl := range zhTitleTemplates {
		for _, act := range zhActions {
			for _, p := range zhProducts {
				title := fmt.Sprintf(tpl, p, act)
				v.zhTitles = append(v.zhTitles, title)
				v.zhSlugs = append(v.zhSlugs, forum.Slug(title))
			}
		}
	}
	for _, s := range append(append([]string{}, sentences...), zhSentences...) {
		v.bodyMD = append(v.bodyMD, s)
		v.bodyHTML = append(v.bodyHTML, inlineHTML(s))
	}
	v.enSentences = len(sentences)
	return v
}

var (
	strongRE = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	emRE     = regexp.MustCompile(`\*([^*]+)\*`)
	codeRE   = regexp.MustCompile("`([^`]+)`")
)

// inlineHTML renders the little Markdown the sentences use (bold, italic, code) after
// escaping everything else, so body_html is safe without running the real renderer
// a million times.
func inlineHTML(md string) string {
	s := html.EscapeString(md)
	s = codeRE.ReplaceAllString(s, "<code>$1</code>")
	s = strongRE.ReplaceAllString(s, "<strong>$1</strong>")
	s = emRE.ReplaceAllString(s, "<em>$1</em>")
	return strings.TrimSpace(s)
}
