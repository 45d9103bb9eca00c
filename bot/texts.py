"""Every user-facing string of the bot and the one command table the menu and /help are built from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSpec:
    name: str  # Latin: the only form Telegram's menu accepts
    aliases: tuple[str, ...]  # Chinese names, typed by hand
    help: str
    menu: bool = True


COMMANDS = (
    CommandSpec("start", ("帮助",), "开始使用；带邀请码可绑定身份：/start 邀请码"),
    CommandSpec("help", (), "看这份说明", menu=False),
    CommandSpec("ask", ("问",), "问政策：/问 王大爷儿子不管他，能吃低保不"),
    CommandSpec(
        "visit",
        ("走访",),
        "记走访：/走访 张三 腿疼，需要轮椅 #问题 申请残疾人证；只发 /走访 则一步步填",
    ),
    CommandSpec(
        "correct",
        ("更正",),
        "更正走访：/更正 新的情况（改最近一次），或 /更正 走访编号 新的情况",
    ),
    CommandSpec("issue", ("问题", "诉求"), "登记问题：/问题 张三 屋顶漏雨"),
    CommandSpec("solve", ("当场解决",), "当场解决了：/当场解决 问题编号 怎么解决的"),
    CommandSpec(
        "escalate",
        ("上报",),
        "上报问题：/上报 问题编号（上报村级），/上报 问题编号 乡镇（村级上报乡镇）",
    ),
    CommandSpec("resolve", ("办结",), "办结问题：/办结 问题编号 办理结果"),
    CommandSpec("followup", ("回访",), "回访：/回访 问题编号 满意|基本满意|不满意"),
    CommandSpec("close", ("销号",), "管理员：回访后销号：/销号 问题编号"),
    CommandSpec("mine", ("我的",), "我经手、我负责的问题，超期的排在前面；/我的 2 看第 2 页"),
    CommandSpec("due", ("待走访",), "本月还没走访的重点户"),
    CommandSpec("digest", ("周报",), "管理员：上周的民情周报和图表"),
    CommandSpec("export", ("导出",), "管理员：导出台账 Excel"),
    CommandSpec("household", ("户",), "看我联系的农户，或 /户 张三 看一户"),
    CommandSpec(
        "invite",
        ("邀请",),
        "管理员：/邀请 volunteer 一组 刘党员 生成邀请码（写名字则绑定花名册里的人）",
    ),
    CommandSpec("cancel", ("取消",), "取消正在填写的表单"),
)


def aliases_of(name: str) -> tuple[str, ...]:
    spec = next(c for c in COMMANDS if c.name == name)
    return (spec.name, *spec.aliases)


def help_text() -> str:
    lines = ["联户助手能做这些（命令前的 / 可以是全角／）："]
    for c in COMMANDS:
        names = " ".join(f"/{n}" for n in (*c.aliases, c.name))
        lines.append(f"{names}：{c.help}")
    lines.append("直接打字发问题，就是问政策。")
    return "\n".join(lines)


WELCOME = "您好，我是联户助手。直接打字问政策；登记走访请先用管理员给的邀请码绑定身份。"
WELCOME_MEMBER = "{name}您好（{role}，{village}）。发 /帮助 看能做什么。"
REGISTERED = "绑定成功：{name}，{role}，{village}。现在可以用 /走访 记走访了。"
NEED_REGISTRATION = "台账功能要先绑定身份：请向村里或乡镇管理员要邀请码，然后发 /start 邀请码。"
ASK_DISABLED = "请先绑定身份后再提问：发 /start 邀请码。"
ASK_EMPTY = "请在 /问 后面写上问题，比如：/问 低保怎么申请"
UNKNOWN_COMMAND = "没有这个命令。发 /帮助 看能用的命令，或直接打字问政策。"
VOICE = "暂时还听不了语音，请打字发过来，我马上帮您查。"
TOO_LONG = "消息太长了（{n} 字），请分几条发，每条不超过 {limit} 字。"
NOTHING_TO_READ = "没看到文字内容，请用文字把问题说一说。"

VISIT_SAVED = (
    "已记走访：{household}，{method}，{date}（走访编号 {id}，写错了可发 /更正 新的情况）。"
)
VISIT_CORRECTED = "已更正走访 #{old}：新记录 #{id}，{household}，{date}。原记录保留备查。"
VISIT_REPLAYED = "这条走访已经记过了（{household}），没有重复记录。"
VISIT_MASKED = "提醒：内容里有身份证号，已自动打码保存。"
VISIT_PROBLEM = "同时登记了问题 #{id}：{description}（{deadline} 前处理）。"
FORM_PICK = "请选要记走访的农户："
FORM_NO_HOUSEHOLDS = "您名下还没有联系户，请管理员先导入花名册。"
FORM_SITUATION = (
    "{household}：请写走访情况（比如“身体还行，想了解医保报销”）。发 /取消 可随时退出。"
)
FORM_PROBLEM = "有没有需要登记的问题？有就直接写问题，没有就点“没有问题”。"
FORM_NO_PROBLEM = "没有问题"
FORM_CONFIRM = "请确认：\n{household}\n情况：{situation}\n问题：{problem}"
FORM_OK = "确认保存"
FORM_CANCELLED = "已取消，没有保存任何内容。"
NOTHING_TO_CANCEL = "现在没有正在填写的内容。"
FORM_EXPIRED = "这个表单已经结束了，请重新发 /走访。"
ATTACHED_LOCATION = "位置已附到刚才的走访记录。"
ATTACHED_PHOTO = "照片已附到刚才的走访记录。"

PROBLEM_LINE = "{overdue}#{id} {household} {status}：{description}（期限 {deadline}）"
OVERDUE_MARK = "【超期】"
NO_PROBLEMS = "目前没有需要您处理的问题。"
MINE_HEADER = (
    "您的问题共 {total} 个：待处理 {open} 个（超期 {overdue} 个），"
    "待回访或销号 {awaiting} 个。第 {page}/{pages} 页："
)
MINE_MORE = "还有 {n} 个，发 /我的 {next} 看下一页。"
MINE_NO_PAGE = "没有第 {page} 页，一共 {pages} 页。发 /我的 看第 1 页。"
SOLVE_ASK = "问题 #{id}：请用一句话写怎么当场解决的（比如“已帮忙联系维修”），发 /取消 放弃。"
ESCALATE_FURTHER = "要继续上报乡镇，请发 /上报 {id} 乡镇，或点“上报乡镇”按钮。"
PROBLEM_USAGE = "请这样写：{usage}"
PROBLEM_DONE = "问题 #{id} 现在是“{status}”。"
PROBLEM_REPLAYED = "这一步已经办过了，问题 #{id} 现在是“{status}”。"
BUTTON_STALE = "这个按钮已经过期了，请发 /我的 看最新情况。"
BUTTON_BAD = "这个按钮看不懂，请发 /我的 重新操作。"
DUE_NONE = "本月重点户都走访过了，辛苦了！"
DUE_HEADER = "本月还没走访的重点户（{n} 户）："
HOUSEHOLD_LIST = "您联系的农户（{n} 户）："
HOUSEHOLD_LINE = "{label} 户号{id}，{size}口人，电话 {phone}，标签：{tags}"
CANDIDATES = "{found}，请选一户（“户”后面是户号）："
CANDIDATE_LINE = "户{id}  {label}"
CANDIDATES_MORE = "还有 {n} 户没列出，请写得更完整些，比如加上门牌：/户 王建国 12号"
CANDIDATES_VISIT = "点下面的按钮，或发 /走访 户{id} 再写走访情况。"
CANDIDATES_HOUSEHOLD = "发 /户 户{id} 看这一户。"
CANDIDATES_ISSUE = "发 /问题 户{id} 再写问题。"
ONLY_COORDINATORS = "这个命令只有村级、乡镇管理员能用。"
INVITE_MADE = "邀请码：{code}（{role}，{village}{grid}）。\n请对方发：/start {code}"
# Telegram only: a deep link that sends /start CODE for them (WeCom has no such link)
INVITE_LINK = "\n或点链接：{link}"
INVITE_USAGE = (
    "请这样写：/邀请 角色 村 网格 名字，如 /邀请 volunteer 东山村 一组 刘党员（村级管理员可不写村；"
    "角色可写 volunteer、grid_leader、village_coordinator）"
)
INVITE_CONFIRM_BUTTON = "确认新建并生成邀请码"
INVITE_CONFIRM_HINT = "确认就点下面的按钮或回复“确认”；不要就发 /取消。"
INVITE_EXPIRED = "这个确认已经过期了，请重新发 /邀请。"
EXPORT_CAPTION = "台账导出（{rows}）。电话和身份证号已按权限打码。"
DIGEST_CAPTION = "民情周报图表 {week}"
ERROR = "出了点问题，没有保存。请稍后再试，或联系管理员。"
# the ledger file is damaged and writes have stopped (bot/ledger/db.py); the operator gets the details
LEDGER_UNAVAILABLE = (
    "台账数据库出了故障，为保护已有记录暂停保存，这次没有记上。请告诉管理员，修好后再记。"
)
GROUP_HINT = "在群里请用命令或 @我 提问。"

# WeCom (企业微信): cards hold at most 6 buttons and a short title; pictures are not read yet
WECOM_CARD_TITLE = "请选择下一步："
WECOM_TYPE_NUMBER = "回复编号即可选择，如：1"
WECOM_MEDIA = "暂时只看得懂文字和语音，图片和文件请用文字说一说。"
