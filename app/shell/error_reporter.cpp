#include "error_reporter.hpp"

#include <QMessageBox>

namespace transcura::shell {

ErrorReporter::ErrorReporter(QWidget* window, QObject* parent) : QObject(parent), window_(window) {}

void ErrorReporter::report(const QString& title, const QString& text, const QString& details) {
    last_ = details.isEmpty() ? text : text + QLatin1Char('\n') + details;
    qWarning().noquote() << title << ":" << last_;
    emit reported(title, text, details);
    if (!dialogs_) return;
    auto* box = new QMessageBox(QMessageBox::Critical, title, text, QMessageBox::Ok, window_);
    box->setObjectName(QString::fromLatin1(kDialogObjectName));
    box->setInformativeText(details);
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    box->setStyleSheet(QStringLiteral("QLabel { min-width: 30em; }"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

}  // namespace transcura::shell
